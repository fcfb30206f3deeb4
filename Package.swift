// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "FishOps",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "fishops", targets: ["fishops"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
    ],
    targets: [
        // C libraries from Debian's -dev packages.
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS"),
        .target(name: "CJPEG", linkerSettings: [.linkedLibrary("jpeg")]),
        .target(name: "CPNG", linkerSettings: [.linkedLibrary("png16")]),

        // Domain engines.
        .target(name: "FishImaging", dependencies: ["CJPEG", "CPNG"]),
        .target(
            name: "FishNeural",
            dependencies: [
                "CBLAS", "FishImaging",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ]
        ),

        // The shared service layer: the only API the interfaces use.
        .target(
            name: "FishServices",
            dependencies: [
                "FishImaging", "FishNeural",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),

        // The executable: argument parsing and wiring only.
        .executableTarget(
            name: "fishops",
            dependencies: [
                "FishServices",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        .testTarget(name: "FishImagingTests", dependencies: ["FishImaging", "CJPEG", "CPNG"]),
        .testTarget(name: "FishNeuralTests", dependencies: ["FishNeural", "ZIPFoundation"]),
        .testTarget(name: "FishServicesTests", dependencies: ["FishServices", "FishImaging", "FishNeural"]),
        .testTarget(name: "EndToEndTests", dependencies: ["FishServices"]),
    ],
    swiftLanguageModes: [.v6]
)
