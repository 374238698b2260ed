// swift-tools-version:5.9
import PackageDescription

// Dependencies point one way: core ← kernels ← model ← selection/training ← CLI (docs/ARCHITECTURE.md).
let package = Package(
    name: "sift",
    products: [
        .executable(name: "sift", targets: ["sift"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // System libraries found through pkg-config (Debian: libopenblas-dev, libopenmpi-dev).
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c",
                       providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]),

        // Each target lists exactly the modules its sources import.
        .target(name: "Core", dependencies: []),
        .target(name: "Kernels", dependencies: ["Core", "COpenBLAS"],
                swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]),
        .target(name: "Model", dependencies: ["Core", "Kernels"],
                swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]),
        .target(name: "Data", dependencies: ["Core"]),
        .target(name: "Interop", dependencies: ["Core", "Kernels", "Model", "Training"]),
        .target(name: "Communication", dependencies: ["Core", "CMPI"]),
        .target(name: "Selection", dependencies: ["Core", "Communication"]),
        .target(name: "Training", dependencies: ["Core", "Kernels", "Model", "Data", "Selection", "Communication"]),
        .target(name: "Performance", dependencies: ["Core", "Kernels", "Model", "Data", "Selection", "Communication", "Training"]),
        .executableTarget(name: "sift", dependencies: [
            "Core", "Kernels", "Model", "Data", "Interop", "Communication", "Selection", "Training", "Performance",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Test targets mirror the source modules; SiftTestSupport runs the built binary.
        .target(name: "SiftTestSupport", dependencies: [], path: "Tests/SiftTestSupport"),
        .testTarget(name: "CoreTests", dependencies: ["Core"]),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels"]),
        .testTarget(name: "ModelTests", dependencies: ["Model", "Kernels"]),
        .testTarget(name: "DataTests", dependencies: ["Data", "Core", "SiftTestSupport"]),
        .testTarget(name: "InteropTests", dependencies: ["Interop", "Model", "Kernels", "SiftTestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "CommunicationTests", dependencies: ["Training", "SiftTestSupport"]),
        .testTarget(name: "SelectionTests", dependencies: ["Selection", "Core", "SiftTestSupport"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Selection", "Model", "Data", "Core", "Kernels", "SiftTestSupport"]),
        .testTarget(name: "PerformanceTests", dependencies: ["Performance", "Model"]),
        .testTarget(name: "CLITests", dependencies: ["Model", "Performance", "Data", "Selection", "Training", "SiftTestSupport"]),
    ]
)
