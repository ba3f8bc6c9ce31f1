// The main job until the training stack lands: builds tensors, runs views and copies, and
// prints what it computed.
#include <iostream>

#include <tenflowers/tenflowers.hpp>

int main() {
  using namespace tenflowers;
  try {
    Tensor a = Tensor::from_vec({1.f, 2.f, 3.f, 4.f, 5.f, 6.f}, {2, 3});
    Tensor t = a.transpose();
    std::cout << "a: shape " << a.shape() << ", transpose shape " << t.shape()
              << ", shares storage: " << std::boolalpha << t.shares_storage(a) << "\n";
    std::cout << "a as f64 contiguous copy of the transpose: "
              << t.contiguous().cast(DType::F64).to_vector<double>().size() << " elements\n";
  } catch (const TensorError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
