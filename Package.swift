// swift-tools-version:5.9
import Foundation
import PackageDescription

// CPU the compute modules are compiled for. `SIFT_TARGET_CPU=haswell` (x86-64 with AVX2, FMA, BMI2:
// every x86 server CPU since 2013, Intel and AMD) or `generic` (baseline x86-64 or arm64); unset, the
// build machine decides (haswell when its /proc/cpuinfo lists those features). The element-wise
// kernels (dropout hashing, softmax, GELU, LayerNorm) run 8 lanes per AVX instruction instead of two
// SSE halves: faster steps with bit-identical results (docs/DECISIONS.md). The CLI and Core
// stay generic so that `sift` can refuse, with one line, a CPU that lacks the features
// (Core.CPUFeatures); build with SIFT_TARGET_CPU=generic for a cluster with older nodes.
let haswellFeatures = ["avx", "avx2", "fma", "bmi1", "bmi2", "f16c", "movbe", "popcnt", "sse4_2"]
let targetCPU: String? = {
    switch ProcessInfo.processInfo.environment["SIFT_TARGET_CPU"] {
    case "generic": return nil
    case "haswell": return "haswell"
    case let other?: fatalError("SIFT_TARGET_CPU must be generic or haswell (got '\(other)')")
    case nil:
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
            let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
        else { return nil }
        let flags = Set(line.split(separator: " ").map(String.init))
        return haswellFeatures.allSatisfy(flags.contains) ? "haswell" : nil
    }
}()
/// Swift flags of the compute modules (release: no overflow/bounds traps in the hot loops).
func computeFlags(unchecked: Bool) -> [SwiftSetting] {
    var settings: [SwiftSetting] = []
    if unchecked { settings.append(.unsafeFlags(["-Ounchecked"], .when(configuration: .release))) }
    if let cpu = targetCPU { settings.append(.unsafeFlags(["-target-cpu", cpu])) }
    return settings
}
/// The CLI is compiled generic but told the compute modules' target, to check the CPU at start-up.
let cliFlags: [SwiftSetting] = targetCPU == nil ? [] : [.define("SIFT_TARGET_HASWELL")]

// Dependencies point one way (docs/ARCHITECTURE.md): Core ← Kernels ← Model ← Interop; Core, CZlib, CZstd ← Data;
// Core ← Communication ← Selection; Model, Selection ← CostModel (the scaling model); Model, Data, Selection,
// CostModel ← Training; Interop, Training ← Setup (building a run from files); Setup, Training ← Advice
// (sift advise) and Bench (sift bench's measurements); Bench ← Analysis (projection and checks); all ← sift (the CLI).
let package = Package(
    name: "sift",
    products: [
        .executable(name: "sift", targets: ["sift"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2")
    ],
    targets: [
        // System libraries found through pkg-config (Debian: libopenblas-dev, libopenmpi-dev).
        .systemLibrary(
            name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(
            name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c",
            providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]),
        // Compressed corpora (`sift prepare` and `sift vocab` read .gz and .zst): zlib1g-dev, libzstd-dev.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CZstd", path: "Sources/CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),

        // Each target lists exactly the modules its sources import.
        .target(name: "Core", dependencies: []),
        .target(name: "Kernels", dependencies: ["Core", "COpenBLAS"], swiftSettings: computeFlags(unchecked: true)),
        .target(name: "Model", dependencies: ["Core", "Kernels"], swiftSettings: computeFlags(unchecked: true)),
        .target(name: "Data", dependencies: ["Core", "CZlib", "CZstd"], swiftSettings: computeFlags(unchecked: false)),
        .target(name: "Interop", dependencies: ["Core", "Kernels", "Model"], swiftSettings: computeFlags(unchecked: false)),
        .target(name: "Communication", dependencies: ["Core", "CMPI"]),
        .target(name: "Selection", dependencies: ["Core", "Communication"], swiftSettings: computeFlags(unchecked: false)),
        .target(name: "CostModel", dependencies: ["Model", "Selection"]),
        .target(
            name: "Training", dependencies: ["Core", "Kernels", "Model", "Data", "Selection", "Communication", "CostModel"],
            swiftSettings: computeFlags(unchecked: false)),
        .target(name: "Setup", dependencies: ["Core", "Kernels", "Model", "Data", "Interop", "Training"]),
        .target(name: "Advice", dependencies: ["Communication", "Core", "Data", "Kernels", "Model", "Selection", "Setup", "Training"]),
        .target(
            name: "Bench",
            dependencies: ["Core", "Kernels", "Model", "Data", "Selection", "Communication", "CostModel", "Training", "Setup"],
            swiftSettings: computeFlags(unchecked: false)),
        .target(name: "Analysis", dependencies: ["Core", "Model", "Selection", "CostModel", "Training", "Bench"]),
        .executableTarget(
            name: "sift",
            dependencies: [
                "Core", "Model", "Data", "Interop", "Communication", "Selection", "CostModel", "Training", "Setup", "Advice",
                "Bench", "Analysis",
                .product(name: "ArgumentParser", package: "swift-argument-parser")
            ], swiftSettings: cliFlags),

        // Test targets mirror the source modules; SiftTestSupport runs the built binary.
        .target(name: "SiftTestSupport", dependencies: [], path: "Tests/SiftTestSupport"),
        .testTarget(name: "CoreTests", dependencies: ["Core"]),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "SiftTestSupport"]),
        .testTarget(name: "ModelTests", dependencies: ["Model", "Kernels", "SiftTestSupport"]),
        .testTarget(name: "DataTests", dependencies: ["Data", "Core", "SiftTestSupport"]),
        .testTarget(name: "InteropTests", dependencies: ["Interop", "Model", "Kernels", "SiftTestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "CommunicationTests", dependencies: ["Training", "SiftTestSupport"]),
        .testTarget(name: "SelectionTests", dependencies: ["Selection", "Communication", "Core", "SiftTestSupport"]),
        .testTarget(
            name: "TrainingTests",
            dependencies: [
                "Training", "CostModel", "Selection", "Model", "Data", "Core", "Kernels",
                "SiftTestSupport"
            ]),
        .testTarget(name: "CostModelTests", dependencies: ["CostModel", "Model", "Selection"]),
        .testTarget(
            name: "AnalysisTests",
            dependencies: ["Analysis", "Bench", "CostModel", "Core", "Model", "Selection", "SiftTestSupport", "Training"]),
        .testTarget(name: "AdviceTests", dependencies: ["Advice", "Selection", "Training", "SiftTestSupport"]),
        .testTarget(name: "SetupTests", dependencies: ["Setup", "Training", "Data", "Core", "Model", "SiftTestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["Core", "Model", "CostModel", "Data", "Selection", "Training", "SiftTestSupport"])
    ]
)
