import CKernels
import Foundation

/// 2-D convolution with bias, zero or reflection padding, any stride, and an optional fused
/// ReLU; computed by im2col + one GEMM per band of output rows (the reference), or by
/// Winograd F(2×2,3×3) or F(4×4,3×3) for 3×3 stride-1 convs between ≥16 channels (forward,
/// input gradient, and by F(2×2) the weight gradient), or directly (CKernels) for stride-1
/// convs to ≤4 channels.
///
/// Shapes: input [N, Cin, H, W], weight [Cout, Cin, k, k] (OIHW), bias [Cout],
/// output [N, Cout, Hout, Wout].
/// - Forward:  Y = W · col(X) + b
/// - Backward: dW += dY · col(X)ᵀ, db += Σ dY, dX = col2im(Wᵀ · dY)
/// With `relu`, the output is max(0, Y) and backward first masks gradOutput (in place) by
/// output > 0.
public final class Conv2D: Layer {
  public let inChannels: Int, outChannels: Int, kernel: Int, stride: Int, pad: Int
  public let padding: Padding
  public let relu: Bool
  public let weight: Tensor, bias: Tensor
  public let weightGrad: Tensor, biasGrad: Tensor
  /// When false, backward computes only dX (a frozen loss network).
  public var accumulatesParameterGradients = true
  /// When false, backward skips dX and returns zeros (a network's first layer, whose input
  /// is data).
  public var computesInputGradient = true
  /// When false, dX always goes through col2im (the plain reference for the flipped-kernel path).
  public var usesFlippedKernelGradient = true
  /// When false, 3×3 stride-1 convs go through im2col (the plain reference for Winograd).
  public var usesWinograd = true
  /// The Winograd variant of the forward pass and the input gradient. F(2×2) by default:
  /// F(4×4) multiplies 1.8× less, but its rounding error is larger, and through the 16 layers
  /// of VGG19 and back it moved the Gatys gradient by 2.6e-3 of its largest element against
  /// the fixture (F(2×2): under 1e-4). The renderer uses F(4×4) (`TransformerNet.winogradTile`),
  /// VGG19 on its first two blocks (`VGG.winogradTile`). The weight gradient always uses F(2×2).
  public var winogradTile = WinogradTile.f2
  /// When false, stride-1 convs to at most 4 channels go through im2col (the plain reference
  /// for the direct kernel in CKernels).
  public var usesDirectThin = true
  /// The most the project's own kernels may use of the CPU's vector instructions (the direct
  /// thin convolution, the Winograd transforms; tests check each level against the plain one).
  /// Per layer, so that a test cannot change the rounding of other work running beside it.
  public var vectorLevel = VectorLevel.best
  /// When true, the input is first upsampled ×2 (nearest neighbour), as if an `Upsample2x`
  /// came before: the output is twice the input's size. A 3×3 stride-1 reflection-padded conv
  /// then runs on the small map (`upsampleConv3x3`: 4/9 of the multiplications, no upsampled
  /// copy). Forward only, for rendering (`TransformerNet.foldsUpsampling`).
  public var upsamplesInput = false {
    didSet {
      precondition(!upsamplesInput || (kernel == 3 && stride == 1 && pad == 1 && padding == .reflect),
                   "Only a 3×3 stride-1 reflection-padded conv folds an upsample.")
    }
  }
  public let workspace: Workspace

  private var output: Tensor?
  private var gradInput: Tensor?

  public init(
    _ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, pad: Int? = nil,
    padding: Padding = .zero, relu: Bool = false, workspace: Workspace = Workspace()
  ) {
    self.inChannels = inChannels
    self.outChannels = outChannels
    self.kernel = kernel
    self.stride = stride
    self.pad = pad ?? kernel / 2
    self.padding = padding
    self.relu = relu
    self.workspace = workspace
    weight = Tensor(shape: [outChannels, inChannels, kernel, kernel])
    bias = Tensor(shape: [outChannels])
    weightGrad = Tensor(shape: weight.shape)
    biasGrad = Tensor(shape: bias.shape)
  }

  public var parameters: [Tensor] { [weight, bias] }
  public var gradients: [Tensor] { [weightGrad, biasGrad] }

  func geometry(_ x: Tensor) -> ConvGeometry {
    precondition(x.shape.count == 4 && x.c == inChannels,
                 "Conv2D(\(inChannels)→\(outChannels)) given input \(x.shape).")
    let g = ConvGeometry(channels: inChannels, height: x.h, width: x.w, kernel: kernel,
                         stride: stride, pad: pad, padding: padding)
    precondition(g.outHeight > 0 && g.outWidth > 0, "Input \(x.shape) too small for a \(kernel)×\(kernel) conv.")
    precondition(padding == .zero || (pad < x.h && pad < x.w),
                 "Reflection padding \(pad) needs an input larger than \(x.h)×\(x.w).")
    return g
  }

  /// Output rows per band: a column buffer of about 4 MB (at most half the workspace limit),
  /// so im2col writes it and OpenBLAS packs it again while it is still in cache. Measured in
  /// one run: transformer forward at 512² 1.77 s with 32 MB bands, 1.22 s with 4 MB, 1.37 s
  /// with 1 MB; the training step and the Gatys evaluation did not change beyond the noise.
  func bandRows(_ g: ConvGeometry) -> Int {
    let perRow = g.colRows * g.outWidth * MemoryLayout<Float>.size
    let target = min(4 << 20, workspace.limitBytes / 2)
    return max(1, min(g.outHeight, target / max(perRow, 1)))
  }

  /// Winograd F(2×2,3×3) for 3×3 stride-1 convs between at least 16 channels each way (with
  /// fewer, the 16 GEMMs are too thin to pay for the transforms).
  func winogradApplies(from inputs: Int, to outputs: Int) -> Bool {
    usesWinograd && kernel == 3 && stride == 1 && inputs >= 16 && outputs >= 16
  }

  /// A stride-1 conv to at most 4 channels (the network's last 9×9 conv, 32 → 3) runs as a
  /// direct convolution: as a GEMM it has 3 rows and ran at 11 GFLOP/s, a third of the whole
  /// forward pass at 512².
  var directThinApplies: Bool { usesDirectThin && stride == 1 && outChannels <= 4 && kernel > 1 }

  /// The forward pass also runs directly when there are at most 4 input channels (the first
  /// 9×9 conv, 3 → 32: its im2col matrix has 243 rows per pixel, written and packed for 32
  /// outputs; at 512² it took 0.068 s at 60 GFLOP/s). Its backward pass keeps im2col.
  var directForwardApplies: Bool { usesDirectThin && stride == 1 && kernel > 1 && (outChannels <= 4 || inChannels <= 4) }

  /// Workspace for one band of Winograd tiles (V and M together). F(2×2) (training, VGG):
  /// measured on a noisy machine (min of 2), training step 6.61 s with 8 MB, 6.02 s with 32 MB;
  /// later, paired over 5 whole-process runs, 32 MB was 6 % slower than 16 MB (median).
  /// F(4×4) (rendering): 32 MB took 0.92 of 16 MB's time (median of 8 paired runs of the
  /// forward pass at 512², whole process), its 36 GEMMs per band being wider.
  static func winogradBandBytes(_ tile: WinogradTile) -> Int { tile == .f4 ? 32 << 20 : 16 << 20 }

  public func releaseBuffers() {
    output = nil
    gradInput = nil
  }

  public func forward(_ x: Tensor) -> Tensor {
    if upsamplesInput {
      precondition(x.shape.count == 4 && x.c == inChannels, "Conv2D(\(inChannels)→\(outChannels)) given input \(x.shape).")
      let y = Tensor.reuse(output, shape: [x.n, outChannels, 2 * x.h, 2 * x.w])
      output = y
      let f = derivedKernel(.upsampleFold, count: 16 * outChannels * inChannels) {
        upsampleConvWeights(weight.data, outChannels: outChannels, inChannels: inChannels, into: $0)
      }
      upsampleConv3x3(x.data, batch: x.n, channels: inChannels, height: x.h, width: x.w, f: f.data, outChannels: outChannels,
                      bias: bias.data, into: y.data, workspace: workspace, bandBytes: min(4 << 20, workspace.limitBytes / 2))
      if relu { reluInPlace(y.data, y.count) }
      return y
    }
    let g = geometry(x)
    let (hOut, wOut) = (g.outHeight, g.outWidth)
    let y = Tensor.reuse(output, shape: [x.n, outChannels, hOut, wOut])
    output = y
    if directForwardApplies {
      let (hp, wp) = (g.height + 2 * pad, g.width + 2 * pad)
      let xp = workspace.buffer(6, count: inChannels * hp * wp)
      for i in 0..<x.n {
        padImage(x.data + i * inChannels * g.height * g.width, g, into: xp)
        let yi = y.data + i * outChannels * hOut * wOut
        for o in 0..<outChannels { (yi + o * hOut * wOut).update(repeating: bias.data[o], count: hOut * wOut) }
        parallelFor(hOut) { rows in
          picasso_conv_thin_forward(xp, Int32(inChannels), Int32(hp), Int32(wp), weight.data, Int32(outChannels), Int32(kernel),
                                    yi, Int32(hOut), Int32(wOut), Int32(rows.lowerBound), Int32(rows.upperBound),
                                    Int32(vectorLevel.rawValue))
        }
      }
      if relu { reluInPlace(y.data, y.count) }
      return y
    }
    if winogradApplies(from: inChannels, to: outChannels) {
      let u = winogradKernel(transposed: false, tile: winogradTile)
      winogradConv3x3(x.data, batch: x.n, g, u: u.data, tile: winogradTile, outChannels: outChannels, bias: bias.data, into: y.data,
                      workspace: workspace, slot: 3, bandBytes: min(Self.winogradBandBytes(winogradTile), workspace.limitBytes / 2),
                      level: vectorLevel)
      if relu { reluInPlace(y.data, y.count) }
      return y
    }
    let plane = hOut * wOut
    let band = bandRows(g)
    let col = workspace.buffer(0, count: g.colRows * band * wOut)
    for i in 0..<x.n {
      let xi = x.data + i * inChannels * g.height * g.width
      let yi = y.data + i * outChannels * plane
      for o in 0..<outChannels { (yi + o * plane).update(repeating: bias.data[o], count: plane) }
      var oy0 = 0
      while oy0 < hOut {
        let oy1 = min(hOut, oy0 + band)
        let cols = (oy1 - oy0) * wOut
        im2col(xi, g, rows: oy0, oy1, into: col)
        gemm(m: outChannels, n: cols, k: g.colRows, a: weight.data, lda: g.colRows,
             b: col, ldb: cols, beta: 1, c: yi + oy0 * wOut, ldc: plane)
        oy0 = oy1
      }
    }
    if relu { reluInPlace(y.data, y.count) }
    return y
  }

  public func backward(_ x: Tensor, _ gy: Tensor) -> Tensor {
    require(!upsamplesInput, "A conv that folds an upsample has no backward pass: train with foldsUpsampling off.")
    let g = geometry(x)
    let (hOut, wOut) = (g.outHeight, g.outWidth)
    require(gy.shape == [x.n, outChannels, hOut, wOut], "Conv2D gradOutput \(gy.shape) for input \(x.shape).")
    if relu, let y = output { reluBackwardInPlace(gy.data, mask: y.data, gy.count) }
    let dx = Tensor.reuse(gradInput, shape: x.shape)
    gradInput = dx
    let plane = hOut * wOut
    let inPlane = g.height * g.width
    // A stride-1 "same" convolution's input gradient is itself a convolution: of dY with the
    // kernel transposed (in ↔ out) and rotated 180°. That runs as im2col + one well-shaped
    // GEMM, with no col2im scatter. With zero padding it gives dX directly; with reflection
    // padding it gives the gradient of the padded input (dY padded by k−1), whose border is
    // then folded back onto the pixels it mirrors.
    // (Not for a few input channels: a GEMM with only Cin rows runs far below the ceiling.)
    let flippedPath = usesFlippedKernelGradient && computesInputGradient && stride == 1 && 2 * pad == kernel - 1 && inChannels >= 16
    let winogradGradient = flippedPath && winogradApplies(from: outChannels, to: inChannels)
    if flippedPath && !winogradGradient { flipWeights() }
    let band = bandRows(g)
    let col = workspace.buffer(0, count: g.colRows * band * wOut)
    let gradGeometry = ConvGeometry(channels: outChannels, height: hOut, width: wOut, kernel: kernel,
                                    stride: 1, pad: padding == .zero ? pad : kernel - 1, padding: .zero)
    let (gradHeight, gradWidth) = (gradGeometry.outHeight, gradGeometry.outWidth)
    let gradBand = bandRows(gradGeometry)
    let dcol = workspace.buffer(1, count: max(g.colRows * band * wOut, gradGeometry.colRows * gradBand * gradWidth))
    let foldsPadding = flippedPath && padding == .reflect
    let dxPadded = foldsPadding ? workspace.buffer(2, count: inChannels * gradHeight * gradWidth) : dcol
    if !flippedPath || foldsPadding { dx.fill(0) }
    // The weight gradient by Winograd F(2×2), for the whole batch at once. Measured over one
    // run's 3 steps (means), the training step's network backward pass 1.91 → 1.67 s: the
    // ten residual convs 0.089 → 0.077 s each, of which the weight gradient is now 0.036 s.
    let winogradWeightGradient = accumulatesParameterGradients && winogradApplies(from: inChannels, to: outChannels)
    if winogradWeightGradient {
      winogradWeightGradient3x3(x.data, batch: x.n, g, dy: gy.data, outChannels: outChannels, addingInto: weightGrad.data,
                                workspace: workspace, slot: 3, bandBytes: min(Self.winogradBandBytes(.f2), workspace.limitBytes / 2),
                                level: vectorLevel)
    }
    // The same convolution of dY by Winograd, for the whole batch at once.
    if winogradGradient {
      let u = winogradKernel(transposed: true, tile: winogradTile)
      let paddedPlane = inChannels * gradHeight * gradWidth
      let target = foldsPadding ? workspace.buffer(5, count: x.n * paddedPlane) : dx.data
      winogradConv3x3(gy.data, batch: x.n, gradGeometry, u: u.data, tile: winogradTile, outChannels: inChannels, bias: nil, into: target,
                      workspace: workspace, slot: 3, bandBytes: min(Self.winogradBandBytes(winogradTile), workspace.limitBytes / 2),
                      level: vectorLevel)
      if foldsPadding {
        for i in 0..<x.n { foldReflection(target + i * paddedPlane, into: dx.data + i * inChannels * inPlane, g) }
      }
    }
    for i in 0..<x.n {
      let xi = x.data + i * inChannels * inPlane
      let dxi = dx.data + i * inChannels * inPlane
      let gyi = gy.data + i * outChannels * plane
      if accumulatesParameterGradients {
        for o in 0..<outChannels { biasGrad.data[o] += sum(gyi + o * plane, count: plane) }
        if directThinApplies {
          let (hp, wp) = (g.height + 2 * pad, g.width + 2 * pad)
          let xp = workspace.buffer(6, count: inChannels * hp * wp)
          padImage(xi, g, into: xp)
          parallelFor(inChannels) { channels in
            picasso_conv_thin_weight_gradient(xp, Int32(hp), Int32(wp), gyi, Int32(outChannels), Int32(kernel), Int32(hOut), Int32(wOut),
                                              weightGrad.data, Int32(inChannels), Int32(channels.lowerBound), Int32(channels.upperBound),
                                              Int32(vectorLevel.rawValue))
          }
        }
        var oy0 = directThinApplies || winogradWeightGradient ? hOut : 0
        while oy0 < hOut {
          let oy1 = min(hOut, oy0 + band)
          let cols = (oy1 - oy0) * wOut
          im2col(xi, g, rows: oy0, oy1, into: col)
          gemm(transB: true, m: outChannels, n: g.colRows, k: cols,
               a: gyi + oy0 * wOut, lda: plane, b: col, ldb: cols,
               beta: 1, c: weightGrad.data, ldc: g.colRows)
          oy0 = oy1
        }
      }
      if !computesInputGradient || winogradGradient { continue }
      if flippedPath {
        // dX (or dX padded) = W̃ · col(dY), W̃ [Cin, Cout·k·k] the flipped kernel.
        let target = foldsPadding ? dxPadded : dxi
        var y0 = 0
        while y0 < gradHeight {
          let y1 = min(gradHeight, y0 + gradBand)
          let cols = (y1 - y0) * gradWidth
          im2col(gyi, gradGeometry, rows: y0, y1, into: dcol)
          gemm(m: inChannels, n: cols, k: gradGeometry.colRows, a: flipped!.data, lda: gradGeometry.colRows,
               b: dcol, ldb: cols, c: target + y0 * gradWidth, ldc: gradHeight * gradWidth)
          y0 = y1
        }
        if foldsPadding { foldReflection(dxPadded, into: dxi, g) }
      } else {
        var oy0 = 0
        while oy0 < hOut {
          let oy1 = min(hOut, oy0 + band)
          let cols = (oy1 - oy0) * wOut
          gemm(transA: true, m: g.colRows, n: cols, k: outChannels,
               a: weight.data, lda: g.colRows, b: gyi + oy0 * wOut, ldb: plane,
               c: dcol, ldc: cols)
          col2im(dcol, g, rows: oy0, oy1, addingInto: dxi)
          oy0 = oy1
        }
      }
    }
    return dx
  }

  private var flipped: Tensor?

  /// Kernels computed from the weights: Winograd-transformed ones for the forward pass and
  /// for the input gradient, and the upsample fold's.
  private enum Derived: Hashable {
    case winograd(transposed: Bool, tile: WinogradTile)
    case upsampleFold
  }
  /// Each with a copy of the weights it was made from: a frozen network (VGG, a renderer's)
  /// computes them once.
  private var derived: [Derived: (source: Tensor, kernel: Tensor)] = [:]

  /// The kernel `make` computes from the current weights (into `count` floats), from the cache
  /// when the weights have not changed since.
  private func derivedKernel(_ kind: Derived, count: Int, make: (UnsafeMutablePointer<Float>) -> Void) -> Tensor {
    if let cached = derived[kind], memcmp(cached.source.data, weight.data, weight.count * MemoryLayout<Float>.size) == 0 {
      return cached.kernel
    }
    let kernel = Tensor.reuse(derived[kind]?.kernel, shape: [count])
    make(kernel.data)
    let source = derived[kind]?.source ?? Tensor(shape: weight.shape)
    source.copy(from: weight)
    derived[kind] = (source, kernel)
    return kernel
  }

  private func winogradKernel(transposed: Bool, tile: WinogradTile) -> Tensor {
    derivedKernel(.winograd(transposed: transposed, tile: tile), count: tile.points * outChannels * inChannels) {
      winogradWeights(weight.data, outChannels: outChannels, inChannels: inChannels, transposed: transposed, tile: tile, into: $0,
                      level: vectorLevel)
    }
  }

  /// W̃[ci, (co·k + ky)·k + kx] = W[co, ci, k−1−ky, k−1−kx], refreshed from the current weights.
  private func flipWeights() {
    let kk = kernel * kernel
    let f = Tensor.reuse(flipped, shape: [inChannels, outChannels * kk])
    flipped = f
    for co in 0..<outChannels {
      for ci in 0..<inChannels {
        let src = weight.data + (co * inChannels + ci) * kk
        let dst = f.data + ci * outChannels * kk + co * kk
        for j in 0..<kk { dst[j] = src[kk - 1 - j] }
      }
    }
  }
}
