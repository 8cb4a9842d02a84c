// The target attributes of the vector levels (picasso_vector_level): 1 = AVX2 + FMA,
// 2 = AVX-512 (F, BW, VL, DQ). Private to CKernels.
#ifndef PICASSO_TARGETS_H
#define PICASSO_TARGETS_H
#define PICASSO_TARGET_AVX2 "avx2,fma"
#define PICASSO_TARGET_AVX512 "avx512f,avx512bw,avx512vl,avx512dq,avx2,fma"
#endif
