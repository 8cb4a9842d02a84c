import ArgumentParser
import Foundation
import PicassoCore

struct Info: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Show the CPU, its vector extensions and the kernels picasso runs on it.",
    discussion: """
      Prints the CPU's model, its vector extensions (AVX2, FMA, AVX-512 …), the OpenBLAS \
      build and the kernels in use (and whether picasso replaced a fallback OpenBLAS chose), \
      and the threads. picasso bench prints the same at its top.

      Example:
        picasso info
      """)

  func run() throws {
    for line in Self.lines() { print(line) }
  }

  /// The CPU's name and model from /proc/cpuinfo ("Intel(R) Xeon(R) … (family 6 model 85)").
  static var cpuName: String {
    let fields = BLASKernels.cpuInfo
    guard !fields.isEmpty else { return "unknown CPU" }
    let name = fields["model name"] ?? "unknown CPU"
    guard let family = fields["cpu family"], let model = fields["model"] else { return name }
    return "\(name) (family \(family) model \(model))"
  }

  static func lines() -> [String] {
    [
      "picasso \(PicassoVersion.string)",
      "CPU: \(cpuName), \(ProcessInfo.processInfo.activeProcessorCount) cores",
      "vector extensions: \(CPUFeatures.current)",
      "\(BLASKernels.summary); \(BLASKernels.config)",
      "threads: OpenBLAS \(blasThreads), picasso's own loops \(computeThreads)",
      "picasso's own kernels (Winograd transforms, thin convolutions, instance norm): \(VectorLevel.best)"
        + (VectorLevel.best < VectorLevel.supported ? " (PICASSO_KERNELS; the CPU has \(VectorLevel.supported))" : ""),
    ]
  }
}
