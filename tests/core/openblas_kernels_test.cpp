// OpenBLAS runs its vector kernels on every CPU with AVX2, also where its release predates the
// CPU and would fall back to generic SSE3 code (see choose_openblas_kernels in cpu_backend.cpp).
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include <tenflowers/tenflowers.hpp>

extern "C" char* openblas_get_corename(void);

namespace tf = tenflowers;

TEST(OpenBlas, RunsVectorKernelsWhereTheCpuHasAvx2) {
  const tf::Tensor a = tf::uniform({64, 64}, -1.0, 1.0, tf::DType::F32, 7);
  const tf::Tensor product = tf::matmul(a, a);  // the backend is set up by now
  EXPECT_EQ(product.shape(), a.shape());
  if (std::getenv("OPENBLAS_CORETYPE")) GTEST_SKIP() << "OPENBLAS_CORETYPE chooses the kernels";
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
    GTEST_SKIP() << "a CPU without AVX2 and FMA";
  }
  const std::string core = openblas_get_corename();
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  if (avx512) {
    EXPECT_TRUE(core == "SkylakeX" || core == "Cooperlake" || core == "SapphireRapids" ||
                core == "Zen")
        << "OpenBLAS runs " << core << " kernels on a CPU with AVX-512";
  } else {
    EXPECT_TRUE(core == "Haswell" || core == "Zen")
        << "OpenBLAS runs " << core << " kernels on a CPU with AVX2";
  }
}
