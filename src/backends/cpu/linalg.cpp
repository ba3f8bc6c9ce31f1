#include "src/backends/cpu/linalg.hpp"

#include "src/backends/cpu/register.hpp"

namespace tenflowers::cpu {

void register_cpu_linalg_kernels(OpRegistry& r) {
  register_cpu_matmul_kernels(r);
  register_cpu_softmax_kernels(r);
  register_cpu_linear_kernels(r);
}

}  // namespace tenflowers::cpu
