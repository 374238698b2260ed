/// The instruction-set features a build of sift needs, checked against the running CPU before any
/// compute code runs: a binary built for AVX2 (Package.swift's `SIFT_TARGET_CPU=haswell`) on a CPU
/// without it would otherwise die of SIGILL somewhere inside a kernel, on whichever node lacks it.
public enum CPUFeatures {
    /// x86-64 with AVX2, FMA and BMI2 (LLVM's `haswell`, the x86-64-v3 level), in /proc/cpuinfo's spelling.
    /// The same list as Package.swift's `haswellFeatures`.
    public static let haswell = ["avx", "avx2", "fma", "bmi1", "bmi2", "f16c", "movbe", "popcnt", "sse4_2"]

    /// Features of `required` absent from the first `flags` line of a /proc/cpuinfo text, in
    /// `required`'s order; all of them when the text has no `flags` line (not x86 Linux).
    public static func missing(_ required: [String], cpuinfo: String) -> [String] {
        guard let line = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
            let colon = line.firstIndex(of: ":")
        else { return required }
        let flags = Set(line[line.index(after: colon)...].split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init))
        return required.filter { !flags.contains($0) }
    }

    /// The one-line refusal for a CPU missing `missing` features of a `target` build, or nil when none is missing.
    public static func refusal(target: String, missing: [String]) -> String? {
        guard !missing.isEmpty else { return nil }
        return "this sift was built for \(target) CPUs (AVX2, FMA) and this CPU lacks \(missing.joined(separator: ", ")); "
            + "rebuild it with SIFT_TARGET_CPU=generic (docs/CLUSTER.md: The build and the CPU)"
    }
}
