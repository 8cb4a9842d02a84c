import CKernels
import COpenBLAS
import Foundation

/// The vector extensions of this CPU (CPUID, as the OS enables them).
public struct CPUFeatures: OptionSet, Sendable, CustomStringConvertible {
  public let rawValue: Int
  public init(rawValue: Int) { self.rawValue = rawValue }
  public static let avx2 = CPUFeatures(rawValue: 1 << 0)
  public static let fma = CPUFeatures(rawValue: 1 << 1)
  public static let avx512f = CPUFeatures(rawValue: 1 << 2)
  public static let avx512bw = CPUFeatures(rawValue: 1 << 3)
  public static let avx512vl = CPUFeatures(rawValue: 1 << 4)
  public static let avx512dq = CPUFeatures(rawValue: 1 << 5)
  public static let avx512cd = CPUFeatures(rawValue: 1 << 6)
  public static let avx512vnni = CPUFeatures(rawValue: 1 << 7)
  public static let avx512bf16 = CPUFeatures(rawValue: 1 << 8)

  /// What OpenBLAS's Skylake-X kernels need.
  public static let skylakeX: CPUFeatures = [.avx2, .fma, .avx512f, .avx512bw, .avx512vl, .avx512dq, .avx512cd]

  public static var current: CPUFeatures { CPUFeatures(rawValue: Int(picasso_cpu_features())) }

  static let names: [(CPUFeatures, String)] = [
    (.avx2, "AVX2"), (.fma, "FMA"), (.avx512f, "AVX-512F"), (.avx512bw, "AVX-512BW"), (.avx512vl, "AVX-512VL"),
    (.avx512dq, "AVX-512DQ"), (.avx512cd, "AVX-512CD"), (.avx512vnni, "AVX-512VNNI"), (.avx512bf16, "AVX-512BF16"),
  ]
  /// "AVX2 FMA AVX-512F …", or "none beyond SSE" when it has none of them.
  public var description: String {
    let list = Self.names.filter { contains($0.0) }.map(\.1)
    return list.isEmpty ? "none beyond SSE" : list.joined(separator: " ")
  }
}

/// Which OpenBLAS kernels run. Debian's OpenBLAS (DYNAMIC_ARCH) chooses them by CPU model when
/// it loads, and falls back to old SSE kernels on a model it does not know: on a Xeon of
/// family 6 model 207 (Emerald Rapids) 0.3.21 picks Prescott, and sgemm runs at 46 GFLOP/s
/// where its Skylake-X kernels give 295. `OPENBLAS_CORETYPE` (read when the library loads)
/// chooses them by name; `picasso` sets it and starts itself again when the choice is a
/// fallback (`main`).
public enum BLASKernels {
  /// Cores whose kernels use AVX2 and FMA or more: no fallback on any CPU.
  static let modernCores: Set<String> = ["haswell", "zen", "skylakex", "cooperlake", "sapphirerapids"]
  /// Cores whose kernels use 512-bit vectors.
  static let avx512Cores: Set<String> = ["skylakex", "cooperlake", "sapphirerapids"]

  /// The first processor's fields in /proc/cpuinfo ("vendor_id", "cpu family", "model name", …),
  /// empty where it cannot be read.
  public static var cpuInfo: [String: String] {
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return [:] }
    var fields: [String: String] = [:]
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
      if line.isEmpty { break }
      let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
      if parts.count == 2, fields[parts[0]] == nil { fields[parts[0]] = parts[1] }
    }
    return fields
  }

  /// The CPU's vendor and family ("AuthenticAMD", 25), nil where /proc/cpuinfo lacks them.
  public static var cpuFamily: (vendor: String, family: Int)? {
    let fields = cpuInfo
    guard let vendor = fields["vendor_id"], let family = fields["cpu family"].flatMap({ Int($0) }) else { return nil }
    return (vendor, family)
  }

  /// The kernels to ask for with `OPENBLAS_CORETYPE`, or nil to keep OpenBLAS's choice.
  /// - Parameters:
  ///   - core: the core OpenBLAS chose (`openblas_get_corename()`).
  ///   - features: the CPU's vector extensions.
  ///   - userChoice: `OPENBLAS_CORETYPE` as the user set it; any value wins.
  ///   - cpu: the CPU's vendor and family.
  /// A core without AVX2 (Prescott, Nehalem, Sandybridge, …) on a CPU with AVX-512 (F, BW, VL,
  /// DQ, CD) gets SkylakeX, on one with AVX2 and FMA Haswell; an AVX2-class choice stays. On
  /// AMD family 25 (Zen 3, without AVX-512, and Zen 4, whose 512-bit instructions run as two
  /// 256-bit halves) 512-bit kernels give way to Zen's AVX2 ones: OpenBLAS 0.3.21 picks Cooperlake for a Zen 4
  /// EPYC, and its Haswell/Zen kernels were as fast or faster there in every case measured
  /// (sgemm +6–23 %, the one-pass training step −14 %; docs/performance.md).
  public static func coreType(core: String, features: CPUFeatures, userChoice: String?,
                              cpu: (vendor: String, family: Int)? = nil) -> String? {
    if let userChoice, !userChoice.isEmpty { return nil }
    if let cpu, cpu.vendor == "AuthenticAMD", cpu.family == 25, avx512Cores.contains(core.lowercased()),
       features.isSuperset(of: [.avx2, .fma]) {
      return "Zen"
    }
    if modernCores.contains(core.lowercased()) { return nil }
    if features.isSuperset(of: CPUFeatures.skylakeX) { return "SkylakeX" }
    if features.isSuperset(of: [.avx2, .fma]) { return "Haswell" }
    return nil
  }

  /// The core whose kernels OpenBLAS runs.
  public static var coreName: String { openblas_get_corename().map { String(cString: $0) } ?? "unknown" }

  /// OpenBLAS's build line ("OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH …").
  public static var config: String { openblas_get_config().map { String(cString: $0) } ?? "unknown" }

  /// Set by `main` when it replaced OpenBLAS's own choice: the core OpenBLAS had picked.
  public static let replacedVariable = "PICASSO_OPENBLAS_FALLBACK"

  /// One line for `picasso info` and `picasso bench`: the kernels in use and why.
  public static var summary: String {
    let env = ProcessInfo.processInfo.environment
    if let fallback = env[replacedVariable] {
      return "OpenBLAS kernels \(coreName) (chosen by picasso: OpenBLAS picked \(fallback) for this CPU)"
    }
    if let user = env["OPENBLAS_CORETYPE"], !user.isEmpty { return "OpenBLAS kernels \(coreName) (OPENBLAS_CORETYPE=\(user))" }
    return "OpenBLAS kernels \(coreName) (OpenBLAS's choice)"
  }
}
