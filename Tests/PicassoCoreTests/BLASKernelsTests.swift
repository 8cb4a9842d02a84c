import Foundation
import PicassoCore
import Testing

/// OpenBLAS's kernels: never a fallback where the CPU can do better, and a user's
/// OPENBLAS_CORETYPE always wins.
struct BLASKernelsTests {
  static let avx2: CPUFeatures = [.avx2, .fma]
  static let avx512 = CPUFeatures.skylakeX.union([.avx512vnni, .avx512bf16])

  @Test func theChoiceAsAFunction() {
    // AMD Zen 3: OpenBLAS knows it.
    #expect(BLASKernels.coreType(core: "Zen", features: Self.avx2, userChoice: nil) == nil)
    // Haswell-class Intel: known, or unknown and given Prescott or Sandybridge.
    #expect(BLASKernels.coreType(core: "Haswell", features: Self.avx2, userChoice: nil) == nil)
    #expect(BLASKernels.coreType(core: "Prescott", features: Self.avx2, userChoice: nil) == "Haswell")
    #expect(BLASKernels.coreType(core: "Sandybridge", features: Self.avx2, userChoice: nil) == "Haswell")
    // Skylake-X class: known (SkylakeX, Cooperlake); unknown (Emerald Rapids on 0.3.21: Prescott).
    #expect(BLASKernels.coreType(core: "SkylakeX", features: Self.avx512, userChoice: nil) == nil)
    #expect(BLASKernels.coreType(core: "COOPERLAKE", features: Self.avx512, userChoice: nil) == nil)
    #expect(BLASKernels.coreType(core: "Prescott", features: Self.avx512, userChoice: nil) == "SkylakeX")
    #expect(BLASKernels.coreType(core: "Nehalem", features: CPUFeatures.skylakeX, userChoice: nil) == "SkylakeX")
    // AVX-512F without the rest of Skylake-X's set (Knights Landing): the AVX2 kernels.
    #expect(BLASKernels.coreType(core: "Prescott", features: Self.avx2.union(.avx512f), userChoice: nil) == "Haswell")
    // An unknown CPU with nothing better than SSE keeps OpenBLAS's choice.
    #expect(BLASKernels.coreType(core: "Prescott", features: [], userChoice: nil) == nil)
    #expect(BLASKernels.coreType(core: "Core2", features: [.avx2], userChoice: nil) == nil)  // AVX2 without FMA
    // AMD family 25 (Zen 3, Zen 4): Zen's AVX2 kernels rather than 512-bit ones, which run
    // as two halves there; Intel keeps them, and so would an AMD family with full-width units.
    let zen4 = (vendor: "AuthenticAMD", family: 25), xeon = (vendor: "GenuineIntel", family: 6)
    #expect(BLASKernels.coreType(core: "Cooperlake", features: Self.avx512, userChoice: nil, cpu: zen4) == "Zen")
    #expect(BLASKernels.coreType(core: "SkylakeX", features: Self.avx512, userChoice: nil, cpu: zen4) == "Zen")
    #expect(BLASKernels.coreType(core: "Zen", features: Self.avx512, userChoice: nil, cpu: zen4) == nil)
    #expect(BLASKernels.coreType(core: "Cooperlake", features: Self.avx512, userChoice: nil, cpu: xeon) == nil)
    #expect(BLASKernels.coreType(core: "Cooperlake", features: Self.avx512, userChoice: nil, cpu: (vendor: "AuthenticAMD", family: 26)) == nil)
    #expect(BLASKernels.coreType(core: "Cooperlake", features: Self.avx512, userChoice: "Cooperlake", cpu: zen4) == nil)
    // The user's setting wins, even a slow one.
    #expect(BLASKernels.coreType(core: "Prescott", features: Self.avx512, userChoice: "Prescott") == nil)
    #expect(BLASKernels.coreType(core: "Prescott", features: Self.avx512, userChoice: "") == "SkylakeX")
    #expect(Self.avx512.description.hasPrefix("AVX2 FMA AVX-512F"))
    #expect(CPUFeatures().description == "none beyond SSE")
  }

  /// The whole path, on any machine: picasso is told OpenBLAS picked Prescott and starts itself
  /// again on the kernels this CPU can run (when it has AVX2 and FMA); a user's
  /// OPENBLAS_CORETYPE is kept.
  @Test func aFallbackCoreIsReplacedAtStart() throws {
    let features = CPUFeatures.current
    let expected = BLASKernels.coreType(core: "Prescott", features: features, userChoice: nil)
    let r = try runPicasso(["info"], environment: ["PICASSO_TEST_OPENBLAS_CORE": "Prescott", "OPENBLAS_CORETYPE": ""])
    #expect(r.status == 0, "\(r.stderr)")
    if let expected {
      #expect(r.stdout.contains("OpenBLAS kernels \(expected) (chosen by picasso: OpenBLAS picked Prescott"), "\(r.stdout)")
    } else {
      #expect(r.stdout.contains("(OpenBLAS's choice)"), "\(r.stdout)")
    }
    #expect(r.stdout.contains("vector extensions: \(features)"))

    let user = try runPicasso(["info"], environment: ["PICASSO_TEST_OPENBLAS_CORE": "Prescott", "OPENBLAS_CORETYPE": "Prescott"])
    #expect(user.stdout.contains("OpenBLAS kernels Prescott (OPENBLAS_CORETYPE=Prescott)"), "\(user.stdout)")
  }
}
