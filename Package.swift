// swift-tools-version:6.0
//
// Picasso Me: neural style transfer on the CPU, three ways (optimise, train, render).
// The layers of the package, bottom up: C libraries → PicassoCore (tensors, kernels, layers,
// networks, losses, optimisers, IO) → the `picasso` command-line tool.

import PackageDescription

let package = Package(
  name: "PicassoMe",
  products: [
    .executable(name: "picasso", targets: ["picasso"]),
    .library(name: "PicassoCore", targets: ["PicassoCore"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
  ],
  targets: [
    // MARK: - Public API

    .target(
      name: "PicassoCore",
      dependencies: ["COpenBLAS", "CHDF5", "CPNG", "CJPEG", "CKernels", "CMPI"],
      swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]
    ),
    // ONNX export: Sources/PicassoONNX/onnx.pb.swift is generated from onnx.proto by
    // Scripts/generate-onnx-proto.sh and committed (the protoc plugin takes minutes to build).
    .target(
      name: "PicassoONNX",
      dependencies: ["PicassoCore", .product(name: "SwiftProtobuf", package: "swift-protobuf")]
    ),
    .executableTarget(
      name: "picasso",
      dependencies: [
        "PicassoCore",
        "PicassoONNX",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),

    // The fuzz targets (Scripts/fuzz.sh builds them with libFuzzer); as a plain executable
    // it replays inputs, such as the regression files in Tests/Fuzz.
    .executableTarget(name: "picasso-fuzz", dependencies: ["PicassoCore"]),

    // MARK: - C libraries (Debian: libopenblas-dev, libhdf5-dev, libpng-dev, libjpeg-dev, libopenmpi-dev)

    .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
    .systemLibrary(name: "CHDF5", pkgConfig: "hdf5", providers: [.apt(["libhdf5-dev"])]),
    .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
    // Open MPI, for training across processes under mpirun (Debian: libopenmpi-dev).
    .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"])]),
    // libjpeg reports errors by longjmp, which Swift cannot call: the decoder and encoder
    // live in C (CJPEG/jpeg_shim.c) and hand back plain return codes and messages.
    .target(name: "CJPEG", linkerSettings: [.linkedLibrary("jpeg")]),
    // Direct convolution for the thin last layer (AVX2/FMA chosen at run time, plain C else).
    .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3"])]),

    // MARK: - Tests

    .testTarget(name: "PicassoCoreTests", dependencies: ["PicassoCore", "PicassoONNX", "picasso-fuzz", "CPNG", "CJPEG", "CKernels"]),
  ],
  swiftLanguageModes: [.v5]
)
