import Core
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

// The end of a `sift prepare` run on disk: the manifest written last, the directory renamed into place.
extension DatasetPreparer {
    /// Writes the dataset's copy of the vocabulary and the manifest (last: its presence marks a complete dataset).
    static func writeManifest(_ manifest: DatasetManifest, vocabPath: String, into temp: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        // The dataset carries its own vocabulary, so training needs only the dataset directory.
        guard let vocabBytes = FileManager.default.contents(atPath: vocabPath) else {
            throw DataError.unreadable(path: vocabPath, reason: "read failed")
        }
        try DurableFile.writeAndSync([UInt8](vocabBytes), to: (temp as NSString).appendingPathComponent(DatasetManifest.vocabFileName))
        let json = try encoder.encode(manifest)
        try DurableFile.writeAndSync([UInt8](json), to: (temp as NSString).appendingPathComponent(DatasetManifest.fileName))
        DurableFile.syncDirectory(temp)
    }

    /// Renames the finished temporary directory to `out`, swapping out a previous dataset by renames.
    static func moveIntoPlace(temp: String, out: URL, parent: String, destinationExists: Bool) throws {
        if destinationExists {
            let old = (parent as NSString).appendingPathComponent(".\(out.lastPathComponent).old-\(getpid())")
            guard rename(out.path, old) == 0 else {
                throw DataError.io(
                    path: out.path,
                    reason: "cannot move the previous dataset aside: "
                        + "\(String(cString: strerror(errno)))")
            }
            guard rename(temp, out.path) == 0 else {
                let reason = String(cString: strerror(errno))
                _ = rename(old, out.path)  // put the previous dataset back
                throw DataError.io(path: out.path, reason: "rename failed: \(reason)")
            }
            DurableFile.syncDirectory(parent)
            try? FileManager.default.removeItem(atPath: old)
        } else {
            guard rename(temp, out.path) == 0 else {
                throw DataError.io(path: out.path, reason: "rename failed: \(String(cString: strerror(errno)))")
            }
            DurableFile.syncDirectory(parent)
        }
    }
}
