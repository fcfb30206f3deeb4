// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "FishOps",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "fishops", targets: ["fishops"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/vapor/multipart-kit", from: "4.7.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
    ],
    targets: [
        // C libraries from Debian's -dev packages. OpenBLAS is opened at run time (see fish_blas.h).
        .target(name: "CBLAS", linkerSettings: [.linkedLibrary("dl"), .linkedLibrary("pthread")]),
        .target(name: "CJPEG", linkerSettings: [.linkedLibrary("jpeg")]),
        .target(name: "CPNG", linkerSettings: [.linkedLibrary("png16")]),
        .target(name: "CNCurses", linkerSettings: [.linkedLibrary("ncursesw")]),
        .target(name: "CCurl", linkerSettings: [.linkedLibrary("curl"), .linkedLibrary("dl")]),
        // Vector kernels compiled for several instruction sets, chosen at load time.
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3"])]),

        // The records every layer speaks (runs, metrics, models, versions, audit entries, predictions,
        // training settings): plain values, no behaviour below them. FishServices re-exports them.
        .target(name: "FishRecords"),

        // Domain engines.
        .target(name: "FishImaging", dependencies: ["CJPEG", "CPNG", "FishRecords"]),
        .target(
            name: "FishNeural",
            dependencies: [
                "CBLAS", "CKernels", "FishImaging", "FishRecords",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            // The ImageNet class names, compiled into the binary (no file to find at run time).
            resources: [.embedInCode("Resources/imagenet-classes.txt")]
        ),

        .target(
            name: "FishStore",
            dependencies: [
                "FishRecords",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),

        // The one HTTP client (for MLflow and for watching servers), on libcurl.
        .target(name: "FishHTTPClient", dependencies: ["CCurl"]),

        // A client of a real MLflow tracking server and registry, over the HTTP client.
        .target(name: "FishMLflow", dependencies: ["FishHTTPClient"]),

        // Worker backends: a local process pool, Slurm.
        .target(name: "FishCluster", dependencies: ["FishRecords"]),

        // The shared service layer: the only API the interfaces use.
        .target(
            name: "FishServices",
            dependencies: [
                "FishRecords", "FishImaging", "FishNeural", "FishStore", "FishCluster", "FishHTTPClient", "FishMLflow",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),

        // The operations console: views render into a cell grid; only its terminal backend uses ncurses.
        .target(name: "FishConsole", dependencies: ["CNCurses", "FishServices"]),

        // The HTTP inference API.
        .target(
            name: "FishServer",
            dependencies: [
                "FishServices",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "MultipartKit", package: "multipart-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),

        // The benchmarks behind `fishops bench`, beside the product: they measure the engine, the
        // store, training, the workers, the server and the console, so they may reach any layer.
        .target(
            name: "FishBenchmarks",
            dependencies: ["FishServices", "FishServer", "FishConsole", "FishNeural", "FishImaging", "FishStore"],
            resources: [.embedInCode("Scripts/peer-runtime.py"), .embedInCode("Scripts/classify-load.lua")]
        ),

        // The executable: argument parsing and wiring only.
        .executableTarget(
            name: "fishops",
            dependencies: [
                "FishServices", "FishConsole", "FishServer", "FishBenchmarks",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // libFuzzer harnesses for the parsers of untrusted input (make fuzz) and their replayer.
        .target(
            name: "FishFuzzHarnesses",
            dependencies: [
                "FishImaging", "FishNeural", "FishServer", "FishServices", .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .target(name: "CFuzzer"),
        .executableTarget(name: "fishops-fuzz", dependencies: ["FishFuzzHarnesses", "CFuzzer"]),

        // Test fixtures shared by the test targets: locations of the weights, ../shared, the binary,
        // and image encoders for generating test images.
        .target(name: "FishTestSupport", dependencies: ["CJPEG", "CPNG", "FishImaging", "FishNeural"], path: "Tests/Support"),
        .testTarget(name: "FishImagingTests", dependencies: ["FishImaging", "FishRecords", "FishTestSupport"]),
        .testTarget(name: "FishNeuralTests", dependencies: ["FishNeural", "FishImaging", "FishRecords", "FishTestSupport"]),
        .testTarget(
            name: "FishStoreTests",
            dependencies: ["FishRecords", "FishStore", "FishTestSupport", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(
            name: "FishServicesTests",
            dependencies: ["FishServices", "FishBenchmarks", "FishNeural", "FishImaging", "FishStore", "FishTestSupport"]
        ),
        .testTarget(name: "FishClusterTests", dependencies: ["FishCluster", "FishRecords", "FishTestSupport"]),
        // The console without a terminal (keys in, screens out), for the console's tests.
        .target(name: "FishConsoleTestSupport", dependencies: ["FishConsole", "FishServices"], path: "Tests/ConsoleSupport"),
        .testTarget(
            name: "FishConsoleTests",
            dependencies: ["FishConsole", "FishConsoleTestSupport", "FishServices", "FishStore", "FishTestSupport"],
            exclude: ["Golden"]),
        .testTarget(
            name: "FishServerTests",
            // A real server on loopback, not HummingbirdTesting (whose HTTP client would compile a second BoringSSL).
            dependencies: [
                "FishServer", "FishServices", "FishTestSupport", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["FishTestSupport", "FishRecords", "FishStore", "FishHTTPClient", "FishMLflow"],
            exclude: ["Golden"]),
        .testTarget(
            name: "FuzzRegressionTests", dependencies: ["FishFuzzHarnesses", "FishTestSupport"], path: "Tests/Fuzz",
            exclude: ["regressions", "seeds", "lsan-suppressions.txt"]),
    ],
    swiftLanguageModes: [.v6]
)

// Every Swift file names the modules whose members it uses (the layering check in scripts/lint-imports
// relies on it: a module reached only through another's types cannot be used unnoticed), and an
// import is internal unless the file says `public import` (or `package import`): a module's public
// API shows which modules it exposes to its clients.
let cTargets: Set = ["CBLAS", "CJPEG", "CPNG", "CNCurses", "CCurl", "CKernels", "CFuzzer"]
for target in package.targets where !cTargets.contains(target.name) {
    target.swiftSettings =
        (target.swiftSettings ?? []) + [
            .enableUpcomingFeature("MemberImportVisibility"), .enableUpcomingFeature("InternalImportsByDefault"),
        ]
}
