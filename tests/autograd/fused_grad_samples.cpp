// Gradient samples for fused_elementwise: random smooth programs of one to three broadcast
// inputs in random layouts.
#include "tests/support/fused_programs.hpp"
#include "tests/support/gradcheck.hpp"

namespace tenflowers::testing {

void register_fused_grad_samples(SampleRegistry& r) {
  r.add("fused_elementwise", [](Rng& rng) {
    const Layout layouts[] = {Layout::Contiguous, Layout::Transposed, Layout::Strided};
    std::vector<OpSample> samples;
    for (int round = 0; round < 4; ++round) {
      const auto count = static_cast<size_t>(rng.integer(1, 3));
      const FusedProgram program = fused::random_program(rng, count, true);
      std::vector<int64_t> shape(static_cast<size_t>(rng.integer(0, 3)));
      for (int64_t& d : shape) d = rng.integer(1, 4);
      OpSample sample{{}, fused_program_attrs(program)};
      for (const auto& s : fused::broadcast_shapes_for(rng, shape, count)) {
        sample.inputs.push_back(
            random_tensor(rng, s, DType::F64, -1.5, 1.5, layouts[rng.integer(0, 2)]));
      }
      samples.push_back(std::move(sample));
    }
    return samples;
  });
}

}  // namespace tenflowers::testing
