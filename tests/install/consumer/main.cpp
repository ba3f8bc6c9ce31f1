// Exits 0 only when an installed tenflowers computes a transpose view and copy correctly.
#include <iostream>

#include <tenflowers/tenflowers.hpp>

int main() {
  using namespace tenflowers;
  Tensor a = Tensor::from_vec({1.f, 2.f, 3.f, 4.f, 5.f, 6.f}, {2, 3});
  Tensor t = a.transpose().contiguous();
  const std::vector<float> expected = {1, 4, 2, 5, 3, 6};
  if (t.to_vector<float>() != expected || !a.transpose().shares_storage(a)) {
    std::cerr << "wrong result: " << t.shape() << "\n";
    return 1;
  }
  std::cout << "consumer ok\n";
  return 0;
}
