#include "CKernels.h"

int picasso_cpu_features(void) {
  int f = 0;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2")) f |= 1 << 0;
  if (__builtin_cpu_supports("fma")) f |= 1 << 1;
  if (__builtin_cpu_supports("avx512f")) f |= 1 << 2;
  if (__builtin_cpu_supports("avx512bw")) f |= 1 << 3;
  if (__builtin_cpu_supports("avx512vl")) f |= 1 << 4;
  if (__builtin_cpu_supports("avx512dq")) f |= 1 << 5;
  if (__builtin_cpu_supports("avx512cd")) f |= 1 << 6;
  if (__builtin_cpu_supports("avx512vnni")) f |= 1 << 7;
  if (__builtin_cpu_supports("avx512bf16")) f |= 1 << 8;
#endif
  return f;
}

// Computed once at load time, before any thread of a parallel loop reads it.
static int supported_level = 0;

__attribute__((constructor)) static void detect_level(void) {
  const int f = picasso_cpu_features();
  const int avx2 = (f & 3) == 3;                       // AVX2 and FMA
  const int avx512 = avx2 && (f & (0xf << 2)) == (0xf << 2);  // F, BW, VL, DQ
  supported_level = avx512 ? 2 : avx2 ? 1 : 0;
}

int picasso_vector_level(void) { return supported_level; }

int picasso_vector_level_capped(int level) { return level < supported_level ? level : supported_level; }
