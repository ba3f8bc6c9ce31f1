// The elementwise array kernels for AVX2 with FMA (built with -mavx2 -mfma).
#define TF_VEC_BYTES 32
#define TF_SLEEF_F(fn, prec) Sleef_##fn##f8_##prec##avx2
#define TF_SLEEF_D(fn, prec) Sleef_##fn##d4_##prec##avx2
#define TF_VEC_FILL fill_table_avx2
#include "src/backends/cpu/elementwise_kernels.inc"
