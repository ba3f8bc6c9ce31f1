// The elementwise array kernels for baseline x86-64 (SSE2), which every x86-64 CPU runs.
#define TF_VEC_BYTES 16
#define TF_SLEEF_F(fn, prec) Sleef_##fn##f4_##prec##sse2
#define TF_SLEEF_D(fn, prec) Sleef_##fn##d2_##prec##sse2
#define TF_VEC_FILL fill_table_baseline
#include "src/backends/cpu/elementwise_kernels.inc"
