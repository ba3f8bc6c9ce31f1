// Chooses the elementwise kernel table for the running CPU.
#include <atomic>

#include "src/backends/cpu/elementwise_table.hpp"
#include "tenflowers/core/error.hpp"

namespace tenflowers::cpu::vec {
namespace {

Isa best_isa() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c")) {
    return Isa::Avx512;
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
      __builtin_cpu_supports("f16c")) {
    return Isa::Avx2;
  }
  return Isa::Baseline;
}

// Only the tables the CPU supports are filled: even the fill functions are compiled for their
// instruction set.
struct Tables {
  Table baseline{}, avx2{}, avx512{};
  Tables() {
    const Isa best = best_isa();
    fill_table_baseline(baseline);
    if (best >= Isa::Avx2) fill_table_avx2(avx2);
    if (best >= Isa::Avx512) fill_table_avx512(avx512);
  }
  const Table& get(Isa isa) const {
    switch (isa) {
      case Isa::Avx512:
        return avx512;
      case Isa::Avx2:
        return avx2;
      default:
        return baseline;
    }
  }
};

const Tables& tables() {
  static const Tables instance;
  return instance;
}

std::atomic<Isa>& active() {
  static std::atomic<Isa> isa{best_isa()};
  return isa;
}

}  // namespace

const Table& table() {
  return tables().get(active().load(std::memory_order_relaxed));
}

bool isa_supported(Isa isa) {
  return isa <= best_isa();
}

void set_isa(Isa isa) {
  TF_CHECK(isa_supported(isa), UnsupportedError, "this CPU does not support the ",
           isa == Isa::Avx512 ? "AVX-512" : "AVX2", " elementwise kernels");
  active().store(isa);
}

Isa active_isa() {
  return active().load();
}

}  // namespace tenflowers::cpu::vec
