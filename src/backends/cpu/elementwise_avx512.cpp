// The elementwise array kernels for AVX-512 (F, BW, DQ, VL; built with matching -m flags).
#define TF_VEC_BYTES 64
#define TF_SLEEF_F(fn, prec) Sleef_##fn##f16_##prec##avx512f
#define TF_SLEEF_D(fn, prec) Sleef_##fn##d8_##prec##avx512f
#define TF_VEC_FILL fill_table_avx512
#include "src/backends/cpu/elementwise_kernels.inc"
