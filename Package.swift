// swift-tools-version:5.9
import PackageDescription

// Dependencies point one way: kernels ← model ← selection/training ← CLI.
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

        .target(name: "Kernels", dependencies: ["COpenBLAS"],
                swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]),
        .target(name: "Model", dependencies: ["Kernels"],
                swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]),
        .target(name: "Data", dependencies: []),
        .target(name: "Interop", dependencies: ["Model", "Data"]),
        .target(name: "Communication", dependencies: ["CMPI"]),
        .target(name: "Selection", dependencies: ["Communication"]),
        .target(name: "Training", dependencies: ["Model", "Data", "Interop", "Selection", "Communication"]),
        .executableTarget(name: "sift", dependencies: [
            "Training", "Model", "Data", "Interop", "Communication", "Selection", "Kernels",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .testTarget(name: "KernelsTests", dependencies: ["Kernels"]),
        .testTarget(name: "ModelTests", dependencies: ["Model", "Kernels", "Data"]),
        .testTarget(name: "DataTests", dependencies: ["Data"]),
        .testTarget(name: "InteropTests", dependencies: ["Interop", "Model", "Data", "Kernels"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Selection", "Model", "Data"]),
    ]
)
