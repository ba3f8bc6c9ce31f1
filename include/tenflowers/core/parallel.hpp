#pragma once
// The thread count CPU kernels (and the BLAS library under them) use. Set at run time and
// honoured by every backend that listens; defaults to the hardware concurrency.
#include <functional>

namespace tenflowers {

void set_num_threads(int threads);  // throws InvalidArgument for threads < 1
int get_num_threads();
// Backends subscribe to keep their own pools (OpenMP, BLAS) in step.
void on_num_threads_changed(std::function<void(int)> listener);

}  // namespace tenflowers
