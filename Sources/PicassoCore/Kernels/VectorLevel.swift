import CKernels
import Foundation

/// The vector instructions this project's own kernels (CKernels: the Winograd transforms, the
/// direct thin convolution, instance norm's loops) use. Each kernel is compiled for every level
/// and chosen per call, by the lower of the layer's `vectorLevel` and what the CPU has; tests
/// run every level the machine supports against the plain one.
public enum VectorLevel: Int, Sendable, CaseIterable, Comparable, CustomStringConvertible {
  /// Plain C: any x86-64 (SSE2) and any other CPU.
  case plain = 0
  /// 256-bit AVX2 with FMA (Haswell and later, AMD Zen).
  case avx2 = 1
  /// 512-bit AVX-512 F, BW, VL, DQ (Skylake-SP and later Xeons, AMD Zen 4).
  case avx512 = 2

  public static func < (a: VectorLevel, b: VectorLevel) -> Bool { a.rawValue < b.rawValue }

  public var description: String { ["plain C", "AVX2/FMA", "AVX-512"][rawValue] }

  /// The name `PICASSO_KERNELS` takes.
  public var name: String { ["plain", "avx2", "avx512"][rawValue] }

  /// The highest level this CPU has (CPUID, as the OS enables it).
  public static let supported = VectorLevel(rawValue: Int(picasso_vector_level())) ?? .plain

  /// The levels this machine can run, lowest first.
  public static var runnable: [VectorLevel] { allCases.filter { $0 <= supported } }

  /// The level layers use unless told otherwise: `supported`, or lower where the environment
  /// variable `PICASSO_KERNELS` (plain, avx2 or avx512) asks for it (to compare the paths in
  /// `picasso bench`). An unknown value is ignored.
  public static let best: VectorLevel = {
    guard let name = ProcessInfo.processInfo.environment["PICASSO_KERNELS"],
          let asked = allCases.first(where: { $0.name == name.lowercased() }) else { return supported }
    return min(asked, supported)
  }()
}
