import PicassoCore
import Testing

/// Every backward pass against central finite differences. For a layer y = f(x) the checked
/// scalar is L = Σ rᵢ·yᵢ with fixed random r, so dL/dy = r; for losses it is the loss itself.
struct GradientTests {
  /// Compares an analytic gradient with (L(x + ε) − L(x − ε)) / 2ε at `samples` positions,
  /// relative to the larger of the two, or to `absolute` where both are smaller (a bias
  /// followed by instance norm has a true gradient of 0, which float noise cannot match
  /// relatively). With `kinks`, for a loss with ReLUs and max pools where x ± ε can straddle
  /// a kink, the one-sided differences (L(x + ε) − L(x)) / ε and (L(x) − L(x − ε)) / ε count
  /// too: at a kink the analytic gradient is one of them, and the best of the three is used.
  func check(
    _ label: String, value x: Tensor, analytic: Tensor, eps: Float = 1e-2, samples: Int = 40,
    tolerance: Double = 1e-2, absolute: Double = 1e-3, kinks: Bool = false, _ loss: () -> Double
  ) {
    var rng = SplitMix64(seed: 99)
    let positions = x.count <= samples ? Array(0..<x.count) : (0..<samples).map { _ in Int(rng.next() % UInt64(x.count)) }
    var worst = 0.0
    let scale = max(Double(analytic.maxAbs()), 1e-6)
    for i in positions {
      let saved = x.data[i]
      x.data[i] = saved + eps
      let plus = loss()
      x.data[i] = saved - eps
      let minus = loss()
      x.data[i] = saved
      let a = Double(analytic.data[i])
      func error(_ numeric: Double) -> Double { abs(numeric - a) / max(abs(numeric), abs(a), 1e-2 * scale, absolute) }
      var err = error((plus - minus) / (2 * Double(eps)))
      if kinks {
        let centre = loss()
        err = min(err, error((plus - centre) / Double(eps)), error((centre - minus) / Double(eps)))
      }
      worst = max(worst, err)
    }
    #expect(worst < tolerance, "\(label): worst relative error \(worst)")
  }

  /// The finite-difference step for layers linear in their input and parameters (a conv with
  /// no ReLU). Central differences of a linear function are exact for any step, so a large one
  /// only shrinks the float rounding in the forward pass, which is divided by 2·step: with the
  /// default 1e-2, a 9×9 conv over 20 channels left 3 % noise on the smallest sampled gradients
  /// on some CPUs (OpenBLAS picks its kernel, and so its summation order, per CPU).
  let linearStep: Float = 0.25

  /// L = Σ r·layer(x), its gradients, and checks of dx and every parameter gradient.
  func checkLayer(_ label: String, _ layer: Layer, input x: Tensor, eps: Float = 1e-2, tolerance: Double = 1e-2) {
    let y = layer.forward(x)
    let r = randomTensor(y.shape, seed: 5)
    func loss() -> Double { layer.forward(x).dot(r) }
    layer.zeroGradients()
    _ = layer.forward(x)
    let dx = layer.backward(x, r.clone()).clone()
    let grads = layer.gradients.map { $0.clone() }
    check("\(label) dx", value: x, analytic: dx, eps: eps, tolerance: tolerance, loss)
    for (k, p) in layer.parameters.enumerated() {
      check("\(label) parameter \(k)", value: p, analytic: grads[k], eps: eps, tolerance: tolerance, loss)
    }
  }

  @Test(arguments: [
    (3, 1, Padding.zero), (3, 2, .zero), (3, 1, .reflect), (3, 2, .reflect), (5, 1, .reflect), (1, 1, .zero),
    (9, 1, .reflect),
  ])
  func conv2D(kernel: Int, stride: Int, padding: Padding) {
    let conv = Conv2D(3, 4, kernel: kernel, stride: stride, padding: padding)
    conv.weight.copy(from: randomTensor(conv.weight.shape, seed: 1, lo: -0.5, hi: 0.5))
    conv.bias.copy(from: randomTensor(conv.bias.shape, seed: 2))
    checkLayer("conv k\(kernel) s\(stride) \(padding)", conv, input: randomTensor([2, 3, 11, 10], seed: 3))
  }

  @Test func conv2DWithFusedReLU() {
    let conv = Conv2D(2, 3, kernel: 3, relu: true)
    conv.weight.copy(from: randomTensor(conv.weight.shape, seed: 1, lo: -0.5, hi: 0.5))
    conv.bias.copy(from: randomTensor(conv.bias.shape, seed: 2))
    checkLayer("conv+relu", conv, input: randomTensor([1, 2, 8, 9], seed: 3), eps: 1e-3, tolerance: 2e-2)
  }

  /// A band smaller than the image exercises the row-chunked im2col/col2im path.
  @Test func conv2DInRowBands() {
    let conv = Conv2D(3, 5, kernel: 3, stride: 1, padding: .zero, workspace: Workspace(limitBytes: 3 * 9 * 12 * 4 * 2 * 2))
    conv.weight.copy(from: randomTensor(conv.weight.shape, seed: 1, lo: -0.5, hi: 0.5))
    let whole = Conv2D(3, 5, kernel: 3, stride: 1, padding: .zero)
    whole.weight.copy(from: conv.weight)
    let x = randomTensor([1, 3, 13, 12], seed: 4)
    let a = conv.forward(x).clone(), b = whole.forward(x)
    #expect(maxRelativeDifference(UnsafeBufferPointer(a.buffer), b.array) < 1e-6)
    checkLayer("banded conv", conv, input: x)
  }

  /// The flipped-kernel input gradient of stride-1 convs with many input channels, against
  /// finite differences and against the col2im reference, for both paddings and a band
  /// smaller than the image.
  @Test(arguments: [(3, Padding.zero), (3, .reflect), (9, .reflect), (5, .zero)])
  func flippedKernelGradient(kernel: Int, padding: Padding) {
    let x = randomTensor([2, 16, 11, 10], seed: 3)
    func make(limit: Int = 64 << 20) -> Conv2D {
      let conv = Conv2D(16, 3, kernel: kernel, padding: padding, workspace: Workspace(limitBytes: limit))
      conv.weight.copy(from: randomTensor(conv.weight.shape, seed: 1, lo: -0.2, hi: 0.2))
      conv.bias.copy(from: randomTensor(conv.bias.shape, seed: 2))
      return conv
    }
    let fast = make(limit: 3 * kernel * kernel * 10 * 4 * 2 * 3), reference = make()
    reference.usesFlippedKernelGradient = false
    let r = randomTensor(fast.forward(x).shape, seed: 5)
    _ = reference.forward(x)
    let a = fast.backward(x, r.clone()).clone(), b = reference.backward(x, r.clone())
    #expect(maxRelativeDifference(UnsafeBufferPointer(a.buffer), b.array) < 1e-5)
    checkLayer("flipped conv k\(kernel) \(padding)", fast, input: x, eps: linearStep)
  }

  /// Winograd F(2×2,3×3) and F(4×4,3×3) against the im2col reference: forward, input
  /// gradient and weight gradient, both paddings, odd sizes (partial edge tiles), a batch, a
  /// fused ReLU, and small workspaces whose tile bands split an image and span two (the last
  /// two cases, for F(2×2) and F(4×4) respectively), and a wide map, whose rows of 17 and 34
  /// tiles fill the vector loops of every level (the narrow ones run only their tails). Then
  /// finite differences (without the ReLU).
  @Test(arguments: [
    (Padding.zero, false, 11, 10, 64 << 20), (.reflect, false, 9, 13, 64 << 20), (.reflect, false, 6, 67, 64 << 20),
    (.zero, true, 7, 7, 64 << 20), (.reflect, true, 12, 8, 2 * 4 * 16 * 36 * 4 * 4),
    (.reflect, false, 12, 8, 2 * 2 * 36 * 36 * 2 * 4),
  ], WinogradTile.allCases)
  func winogradAgainstIm2col(_ c: (padding: Padding, relu: Bool, height: Int, width: Int, workspace: Int), tile: WinogradTile) {
    // Every vector level of the transforms this CPU has (plain C everywhere).
    for level in VectorLevel.runnable {
      let make = { (winograd: Bool) -> Conv2D in
        let conv = Conv2D(16, 20, kernel: 3, padding: c.padding, relu: c.relu, workspace: Workspace(limitBytes: c.workspace))
        conv.usesWinograd = winograd
        conv.winogradTile = tile
        conv.vectorLevel = level
        return conv
      }
      let (fast, _) = expectSameAsReference(make, input: randomTensor([3, 16, c.height, c.width], seed: 21), label: "\(level)")
      // (The ReLU's kinks defeat finite differences over 16 channels; it is checked above.)
      if !c.relu {
        checkLayer("winograd \(tile) conv \(c.padding) \(level)", fast, input: randomTensor([1, 16, c.height, c.width], seed: 25),
                   eps: linearStep)
      }
    }
  }

  /// The direct kernel for convs to at most 4 channels, and for the forward pass of convs from
  /// at most 4 channels, against the im2col reference: forward, weight gradient and input
  /// gradient, for widths with and without a partial vector, 1 to 4 output channels (and 6 and
  /// 32: groups of 4 and a partial group), both paddings. Then finite differences.
  @Test(arguments: [(20, 3, 9, Padding.reflect, 37), (20, 1, 3, .zero, 16), (20, 2, 5, .reflect, 29), (20, 4, 9, .zero, 51),
                    (20, 3, 9, .reflect, 7), (3, 32, 9, .reflect, 37), (2, 6, 3, .zero, 19)])
  func directThinAgainstIm2col(inChannels: Int, outChannels: Int, kernel: Int, padding: Padding, width: Int) {
    let x = randomTensor([2, inChannels, 13, width], seed: 31)
    // Every vector level this CPU has (plain C everywhere), each against im2col; and where a
    // vector path runs it really is another path: with FMA its last bits differ from plain C's.
    var outputs: [VectorLevel: [Float]] = [:]
    for level in VectorLevel.runnable {
      let make = { (direct: Bool) -> Conv2D in
        let conv = Conv2D(inChannels, outChannels, kernel: kernel, padding: padding)
        conv.usesDirectThin = direct
        conv.vectorLevel = level
        return conv
      }
      let (fast, _) = expectSameAsReference(make, input: x, label: "\(level)")
      checkLayer("direct conv \(inChannels)→\(outChannels) \(kernel)×\(kernel) \(padding) \(level)", fast,
                 input: randomTensor([1, inChannels, 13, width], seed: 35), eps: linearStep)
      outputs[level] = fast.forward(x).array
    }
    for level in VectorLevel.runnable where level != .plain {
      #expect(outputs[level] != outputs[.plain], "the \(level) path gave the plain path's bits")
    }
  }

  /// A conv that folds the ×2 upsample before it (rendering's `upsampleConv3x3`) against
  /// `Upsample2x` then the same conv through Winograd and through im2col: odd sizes, a
  /// one-pixel map, a batch of two, and window bands that split the map (a small workspace).
  @Test(arguments: [(5, 7, 64 << 20), (1, 1, 64 << 20), (13, 6, 64 << 20), (12, 9, 4096), (4, 3, 2048)])
  func upsampleFoldAgainstUpsampleAndConv(height: Int, width: Int, workspace: Int) {
    let x = randomTensor([2, 16, height, width], seed: 41)
    let up = Upsample2x().forward(x).clone()
    func conv(_ setUp: (Conv2D) -> Void) -> Conv2D {
      let c = Conv2D(16, 20, kernel: 3, padding: .reflect, workspace: Workspace(limitBytes: workspace))
      c.weight.copy(from: randomTensor(c.weight.shape, seed: 42, lo: -0.2, hi: 0.2))
      c.bias.copy(from: randomTensor(c.bias.shape, seed: 43))
      setUp(c)
      return c
    }
    let folded = conv { $0.upsamplesInput = true }.forward(x)
    #expect(folded.shape == [2, 20, 2 * height, 2 * width])
    for (label, reference) in [("Winograd", conv { _ in }), ("im2col", conv { $0.usesWinograd = false })] {
      let difference = maxRelativeDifference(UnsafeBufferPointer(folded.buffer), reference.forward(up).array)
      #expect(difference < 1e-5, "fold against upsample + \(label) conv: relative difference \(difference)")
    }
  }

  /// `make(true)` (a fast path) against `make(false)` (its reference), with the same random
  /// weights: output, input gradient, weight and bias gradients within float rounding.
  func expectSameAsReference(_ make: (Bool) -> Conv2D, input x: Tensor, label: String = "") -> (fast: Conv2D, reference: Conv2D) {
    let fast = make(true), reference = make(false)
    for conv in [fast, reference] {
      conv.weight.copy(from: randomTensor(conv.weight.shape, seed: 22, lo: -0.2, hi: 0.2))
      conv.bias.copy(from: randomTensor(conv.bias.shape, seed: 23))
    }
    let a = fast.forward(x).clone(), b = reference.forward(x)
    let r = randomTensor(a.shape, seed: 24)
    let da = fast.backward(x, r.clone()).clone(), db = reference.backward(x, r.clone())
    for (term, p, q) in [("output", a, b), ("input gradient", da, db), ("weight gradient", fast.weightGrad, reference.weightGrad),
                          ("bias gradient", fast.biasGrad, reference.biasGrad)] {
      let difference = maxRelativeDifference(UnsafeBufferPointer(p.buffer), q.array)
      #expect(difference < 1e-5, "\(term) \(label): relative difference \(difference)")
    }
    return (fast, reference)
  }

  @Test(arguments: [Pool2D.Kind.max, .avg])
  func pooling(kind: Pool2D.Kind) {
    checkLayer("\(kind) pool", Pool2D(kind), input: randomTensor([2, 3, 7, 9], seed: 6), eps: 1e-3)
  }

  /// Max pooling's backward pass routes each window's gradient to its first maximal element
  /// (a window of ReLU zeros to its top left, a tie of 2s to the first), and leaves zeros in
  /// the odd last row and column it drops; a reused buffer keeps nothing of the pass before.
  @Test func maxPoolingTiesAndDroppedEdges() {
    let pool = Pool2D(.max)
    let x = Tensor(shape: [1, 1, 3, 5], values: [0, 0, 1, 2, 9,
                                                 0, 0, 2, 1, 9,
                                                 9, 9, 9, 9, 9])
    // First a pass whose maxima sit elsewhere, in the same buffer: every stale 7 must go.
    let other = Tensor(shape: x.shape, values: (0..<15).map { Float($0) })
    _ = pool.forward(other)
    _ = pool.backward(other, Tensor(shape: [1, 1, 1, 2], values: [7, 7]))
    _ = pool.forward(x)
    let dx = pool.backward(x, Tensor(shape: [1, 1, 1, 2], values: [3, 5]))
    #expect(dx.array == [3, 0, 0, 5, 0,
                         0, 0, 0, 0, 0,
                         0, 0, 0, 0, 0].map { Float($0) }, "\(dx.array)")
  }

  @Test func gram() {
    checkLayer("gram", Gram(), input: randomTensor([2, 4, 5, 6], seed: 7))
  }

  @Test func meanSquaredErrorGradient() {
    let a = randomTensor([2, 3, 4, 5], seed: 8), b = randomTensor([2, 3, 4, 5], seed: 9)
    let g = Tensor(shape: a.shape)
    _ = meanSquaredError(a, b, gradient: g, weight: 3)
    check("mse", value: a, analytic: g) { 3 * meanSquaredError(a, b) }
  }

  @Test func totalVariationGradient() {
    let x = randomTensor([1, 3, 6, 7], seed: 10, lo: 0, hi: 1)
    let g = Tensor(shape: x.shape)
    _ = totalVariation(x, gradient: g, weight: 2)
    check("tv", value: x, analytic: g) { 2 * totalVariation(x) }
  }

  /// The grid loss is quadratic in x, so central differences are exact up to rounding at
  /// any step; a large one keeps that rounding small.
  @Test func gridLossGradient() {
    let x = randomTensor([2, 3, 9, 11], seed: 13, lo: 0, hi: 1)
    let g = randomTensor(x.shape, seed: 14)  // the loss adds into the gradient
    let before = g.clone()
    _ = gridLoss(x, gradient: g, weight: 3)
    for i in 0..<g.count { g.data[i] -= before.data[i] }
    check("grid", value: x, analytic: g, eps: linearStep) { 3 * gridLoss(x) }
  }

  /// What the grid loss measures: a dot every 4 pixels has high-pass means c at its own
  /// position, −c/4 at the four beside it and 0 elsewhere (their mean is 0), so the loss is
  /// c² + 4(c/4)² = 1.25c² a channel; smooth shading (a plane) and a constant add nothing.
  @Test func gridLossMeasuresTheFourPixelGrid() {
    let (h, w) = (14, 17)
    let dots = Tensor(shape: [1, 2, h, w]), plane = Tensor(shape: [1, 1, h, w])
    for c in 0..<2 {
      for i in 0..<h { for j in 0..<w { dots.data[(c * h + i) * w + j] = i % 4 == 0 && j % 4 == 0 ? 0.5 : 0 } }
    }
    for i in 0..<h { for j in 0..<w { plane.data[i * w + j] = 0.3 + 0.01 * Float(i) - 0.02 * Float(j) } }
    #expect(isClose(gridLoss(dots), 2 * 1.25 * 0.25, rel: 1e-6))
    #expect(gridLoss(plane) < 1e-12)
    let shifted = dots.clone()
    for i in 0..<shifted.count { shifted.data[i] += 0.25 }
    #expect(isClose(gridLoss(shifted), gridLoss(dots), rel: 1e-5))
    #expect(gridLoss(Tensor(shape: [1, 3, 5, 40])) == 0)  // too small for every position
  }

  @Test func styleLossGradient() {
    let f = randomTensor([2, 4, 5, 5], seed: 11)
    let target = randomTensor([4, 4], seed: 12, lo: 0, hi: 0.5)
    let loss = StyleLoss()
    let g = Tensor(shape: f.shape)
    _ = loss(f, target: target, gradient: g, weight: 5)
    check("style loss", value: f, analytic: g) { 5 * loss(f, target: target) }
  }

  /// The whole objective through VGG19 (preprocessing, convs, pools, taps) on a small image,
  /// on every vector level of the project's own kernels this CPU has.
  @Test(arguments: VectorLevel.runnable)
  func objectiveThroughVGG(level: VectorLevel) throws {
    let vgg = try requireVGG(taps: ["relu2_1", "relu2_2"])
    vgg.vectorLevel = level
    let objective = StyleObjective(
      vgg: vgg, styles: [(randomTensor([1, 3, 16, 16], seed: 13, lo: 0, hi: 1), 1)],
      contentLayers: ["relu2_2"], styleLayers: ["relu2_1"], weights: LossWeights(content: 1e-3, style: 1e-6, tv: 1))
    objective.setContent(randomTensor([1, 3, 16, 16], seed: 14, lo: 0, hi: 1))
    let x = randomTensor([1, 3, 16, 16], seed: 15, lo: 0, hi: 1)
    let g = Tensor(shape: x.shape)
    _ = objective.evaluate(x, gradient: g)
    let analytic = g.clone()
    check("objective via VGG \(level)", value: x, analytic: analytic, eps: 1e-3, samples: 30, tolerance: 3e-2, kinks: true) {
      objective.evaluate(x).total
    }
  }
}

