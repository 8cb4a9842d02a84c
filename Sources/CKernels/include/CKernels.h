#ifndef CKERNELS_H
#define CKERNELS_H

/// Direct convolution kernels for the thin layers of the transformation network, where a GEMM
/// has too few rows to pay for im2col and packing: the last 9×9 conv (32 → 3 channels).
/// `xp` is one image, already padded: [cin, hp, wp] with hp = hout + k − 1, wp = wout + k − 1.
/// Weights are OIHW [cout, cin, k, k]. AVX2/FMA where the CPU has it, plain C otherwise.

/// y[o, oy, ox] += Σ_{c, ky, kx} w[o, c, ky, kx] · xp[c, oy + ky, ox + kx] for output rows
/// row0 ..< row1, with cout ≤ 4.
void picasso_conv_thin_forward(const float *xp, int cin, int hp, int wp, const float *w, int cout, int k,
                               float *y, int hout, int wout, int row0, int row1);

/// dw[o, c, ky, kx] += Σ_{oy, ox} dy[o, oy, ox] · xp[c, oy + ky, ox + kx] for input channels
/// c0 ..< c1, with cout ≤ 4.
void picasso_conv_thin_weight_gradient(const float *xp, int hp, int wp, const float *dy, int cout, int k,
                                       int hout, int wout, float *dw, int cin, int c0, int c1);

/// 1 when the AVX2/FMA kernels run on this CPU (and the plain path is not forced).
int picasso_conv_thin_vectorized(void);

/// With a nonzero argument, the plain C path runs even where AVX2 is available (for tests).
void picasso_conv_thin_force_plain(int plain);

#endif
