// The vectorised direct convolution of thin_conv.c, written once against a few vector macros
// and compiled twice there: with 8-float AVX2/FMA vectors and with 16-float AVX-512 ones, each
// under its own names (KERNEL(name)) and target attribute. Not a header of its own.
//   VEC, VW: the vector type and its floats; VLOAD, VSTORE (unaligned), VFMA(a, b, c) = a·b + c,
//   VSET1 (broadcast), VZERO, VHSUM (the sum of the lanes); NV3, NV4: the vectors of columns
//   per block for up to 3 and for 4 output channels (as many as the registers hold).

// One block of nv vectors of output columns at row oy for `no` output channels.
INLINE void KERNEL(forward_block)(const float *xp, int cin, int hp, int wp, const float *w, int k,
                                  float *y, int hout, int wout, int oy, int ox, const int no, const int nv) {
  VEC acc[4][NV3];
  for (int o = 0; o < no; o++)
    for (int v = 0; v < nv; v++) acc[o][v] = VLOAD(y + ((size_t)o * hout + oy) * wout + ox + VW * v);
  const size_t wstride = (size_t)cin * k * k;
  for (int c = 0; c < cin; c++)
    for (int ky = 0; ky < k; ky++) {
      const float *row = xp + ((size_t)c * hp + oy + ky) * wp + ox;
      const float *wk = w + ((size_t)c * k + ky) * k;
      for (int kx = 0; kx < k; kx++) {
        VEC x[NV3];
        for (int v = 0; v < nv; v++) x[v] = VLOAD(row + kx + VW * v);
        for (int o = 0; o < no; o++) {
          const VEC b = VSET1(wk[o * wstride + kx]);
          for (int v = 0; v < nv; v++) acc[o][v] = VFMA(b, x[v], acc[o][v]);
        }
      }
    }
  for (int o = 0; o < no; o++)
    for (int v = 0; v < nv; v++) VSTORE(y + ((size_t)o * hout + oy) * wout + ox + VW * v, acc[o][v]);
}

INLINE void KERNEL(forward_rows)(const float *xp, int cin, int hp, int wp, const float *w, int cout, int k,
                                 float *y, int hout, int wout, int row0, int row1, const int no, const int nv) {
  for (int oy = row0; oy < row1; oy++) {
    int ox = 0;
    for (; ox + VW * nv <= wout; ox += VW * nv) KERNEL(forward_block)(xp, cin, hp, wp, w, k, y, hout, wout, oy, ox, no, nv);
    // The whole vectors left (fewer than nv) in one block, each count a constant.
    switch ((wout - ox) / VW) {
#define REST(n) case n: if (n < nv) KERNEL(forward_block)(xp, cin, hp, wp, w, k, y, hout, wout, oy, ox, no, n < nv ? n : 1); break;
      REST(1) REST(2) REST(3) REST(4) REST(5)
#undef REST
      default: break;
    }
    ox += (wout - ox) / VW * VW;
    if (ox < wout) forward_plain(xp, cin, hp, wp, w, cout, k, y, hout, wout, oy, ox, wout);
  }
}

INLINE void KERNEL(forward_group)(const float *xp, int cin, int hp, int wp, const float *w, int no, const int k,
                                  float *y, int hout, int wout, int row0, int row1) {
  switch (no) {
    case 1: KERNEL(forward_rows)(xp, cin, hp, wp, w, no, k, y, hout, wout, row0, row1, 1, NV3); break;
    case 2: KERNEL(forward_rows)(xp, cin, hp, wp, w, no, k, y, hout, wout, row0, row1, 2, NV3); break;
    case 3: KERNEL(forward_rows)(xp, cin, hp, wp, w, no, k, y, hout, wout, row0, row1, 3, NV3); break;
    default: KERNEL(forward_rows)(xp, cin, hp, wp, w, no, k, y, hout, wout, row0, row1, 4, NV4); break;
  }
}

// Output channels in groups of up to 4 (one group for the thin last conv; 8 for the first
// 9×9 conv, 3 → 32, whose few input channels make im2col and packing the larger cost). The
// network's 9×9 kernels get a constant k, so that the tap loop unrolls (about 8 % faster).
static void KERNEL(forward)(const float *xp, int cin, int hp, int wp, const float *w, int cout, int k,
                            float *y, int hout, int wout, int row0, int row1) {
  for (int o0 = 0; o0 < cout; o0 += 4) {
    const int no = cout - o0 < 4 ? cout - o0 : 4;
    const float *wo = w + (size_t)o0 * cin * k * k;
    float *yo = y + (size_t)o0 * hout * wout;
    if (k == 9) KERNEL(forward_group)(xp, cin, hp, wp, wo, no, 9, yo, hout, wout, row0, row1);
    else KERNEL(forward_group)(xp, cin, hp, wp, wo, no, k, yo, hout, wout, row0, row1);
  }
}

// dw for taps kx0 ..< kx0 + nk of row ky, input channel c, output channels o0 ..< o0 + no,
// over the columns that fill whole vectors (the rest is left to the plain tail).
INLINE void KERNEL(weight_gradient_group)(const float *xp, int hp, int wp, const float *dy, int k, int hout, int wout,
                                          float *dw, int cin, int c, int ky, int kx0, int o0, const int no,
                                          const int nk) {
  VEC acc[4][3];
  for (int o = 0; o < no; o++)
    for (int j = 0; j < nk; j++) acc[o][j] = VZERO();
  const int whole = wout / VW * VW;
  for (int oy = 0; oy < hout; oy++) {
    const float *row = xp + ((size_t)c * hp + oy + ky) * wp + kx0;
    const float *d = dy + ((size_t)o0 * hout + oy) * wout;
    const size_t plane = (size_t)hout * wout;
    for (int ox = 0; ox < whole; ox += VW) {
      VEC x[3];
      for (int j = 0; j < nk; j++) x[j] = VLOAD(row + ox + j);
      for (int o = 0; o < no; o++) {
        const VEC g = VLOAD(d + o * plane + ox);
        for (int j = 0; j < nk; j++) acc[o][j] = VFMA(g, x[j], acc[o][j]);
      }
    }
  }
  for (int o = 0; o < no; o++)
    for (int j = 0; j < nk; j++) dw[((((size_t)(o0 + o)) * cin + c) * k + ky) * k + kx0 + j] += VHSUM(acc[o][j]);
}

static void KERNEL(weight_gradient)(const float *xp, int hp, int wp, const float *dy, int cout, int k,
                                    int hout, int wout, float *dw, int cin, int c0, int c1) {
  for (int c = c0; c < c1; c++) {
    for (int ky = 0; ky < k; ky++)
      for (int o0 = 0; o0 < cout; o0 += 3) {
        const int no = cout - o0 < 3 ? cout - o0 : 3;
        int kx = 0;
        for (; kx + 3 <= k; kx += 3) {
          if (no == 3) KERNEL(weight_gradient_group)(xp, hp, wp, dy, k, hout, wout, dw, cin, c, ky, kx, o0, 3, 3);
          else if (no == 2) KERNEL(weight_gradient_group)(xp, hp, wp, dy, k, hout, wout, dw, cin, c, ky, kx, o0, 2, 3);
          else KERNEL(weight_gradient_group)(xp, hp, wp, dy, k, hout, wout, dw, cin, c, ky, kx, o0, 1, 3);
        }
        for (; kx < k; kx++) {
          if (no == 3) KERNEL(weight_gradient_group)(xp, hp, wp, dy, k, hout, wout, dw, cin, c, ky, kx, o0, 3, 1);
          else if (no == 2) KERNEL(weight_gradient_group)(xp, hp, wp, dy, k, hout, wout, dw, cin, c, ky, kx, o0, 2, 1);
          else KERNEL(weight_gradient_group)(xp, hp, wp, dy, k, hout, wout, dw, cin, c, ky, kx, o0, 1, 1);
        }
      }
    if (wout % VW) weight_gradient_plain(xp, hp, wp, dy, cout, k, hout, wout, dw, cin, c, wout / VW * VW);
  }
}
