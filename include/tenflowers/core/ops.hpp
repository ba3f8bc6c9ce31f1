#pragma once
// The op set as free functions. Every function here is one dispatch() of a registered op (or a
// short composition of them), so autograd, graph tracing and profiling see each call.
// Broadcasting follows NumPy; axes may be negative; integer inputs to floating-point math
// (exp, div, mean, ...) compute in f32.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tenflowers/core/tensor.hpp"

namespace tenflowers {

// ---- creation ---------------------------------------------------------------------------------
Tensor zeros(Dims shape, DType dtype = DType::F32, std::optional<Device> device = {});
Tensor ones(Dims shape, DType dtype = DType::F32, std::optional<Device> device = {});
Tensor full(Dims shape, double value, DType dtype = DType::F32, std::optional<Device> device = {});
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor full_like(const Tensor& t, double value);
// [start, stop) with step; the count is ceil((stop - start) / step).
Tensor arange(double start, double stop, double step = 1.0, DType dtype = DType::F32,
              std::optional<Device> device = {});
Tensor arange(int64_t stop, DType dtype = DType::I64, std::optional<Device> device = {});
Tensor linspace(double start, double stop, int64_t count, DType dtype = DType::F32,
                std::optional<Device> device = {});
Tensor eye(int64_t rows, std::optional<int64_t> cols = {}, DType dtype = DType::F32,
           std::optional<Device> device = {});
// Writes src into the existing tensor dst, in place (torch's copy_): src is moved to dst's
// device, converted to its dtype and broadcast to its shape. dst must be contiguous. This is how
// the static inputs of a CUDA graph are refilled; tapes do not record it.
void copy_into(const Tensor& dst, const Tensor& src);

// ---- random (counter-based: the same seed gives the same numbers whatever the thread count) ---
void manual_seed(uint64_t seed);
// Each call without an explicit seed draws a fresh stream from the global generator.
Tensor uniform(Dims shape, double low = 0.0, double high = 1.0, DType dtype = DType::F32,
               std::optional<uint64_t> seed = {}, std::optional<Device> device = {});
Tensor normal(Dims shape, double mean = 0.0, double stddev = 1.0, DType dtype = DType::F32,
              std::optional<uint64_t> seed = {}, std::optional<Device> device = {});
// Normal restricted to [mean - 2 stddev, mean + 2 stddev] by resampling (TensorFlow's rule).
Tensor truncated_normal(Dims shape, double mean = 0.0, double stddev = 1.0,
                        DType dtype = DType::F32, std::optional<uint64_t> seed = {},
                        std::optional<Device> device = {});
Tensor bernoulli(Dims shape, double p, DType dtype = DType::F32, std::optional<uint64_t> seed = {},
                 std::optional<Device> device = {});
Tensor permutation(int64_t n, std::optional<uint64_t> seed = {}, std::optional<Device> device = {});

// ---- elementwise unary ------------------------------------------------------------------------
Tensor neg(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor sign(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor expm1(const Tensor& x);
Tensor log(const Tensor& x);
Tensor log1p(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor rsqrt(const Tensor& x);
Tensor square(const Tensor& x);
Tensor reciprocal(const Tensor& x);
Tensor sin(const Tensor& x);
Tensor cos(const Tensor& x);
Tensor tan(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor relu(const Tensor& x);
Tensor leaky_relu(const Tensor& x, double negative_slope = 0.01);
Tensor elu(const Tensor& x, double alpha = 1.0);
Tensor gelu(const Tensor& x, bool tanh_approximation = false);
Tensor silu(const Tensor& x);
Tensor softplus(const Tensor& x, double beta = 1.0, double threshold = 20.0);
Tensor erf(const Tensor& x);
Tensor floor(const Tensor& x);
Tensor ceil(const Tensor& x);
Tensor round(const Tensor& x);  // half to even, as NumPy
Tensor logical_not(const Tensor& x);
Tensor isnan(const Tensor& x);
Tensor isfinite(const Tensor& x);

// ---- elementwise binary (broadcasting, type promotion) ----------------------------------------
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);  // true division
Tensor pow(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);
Tensor mod(const Tensor& a, const Tensor& b);  // result has the sign of b, as Python's %
Tensor atan2(const Tensor& y, const Tensor& x);
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
Tensor logical_and(const Tensor& a, const Tensor& b);
Tensor logical_or(const Tensor& a, const Tensor& b);
Tensor logical_xor(const Tensor& a, const Tensor& b);
Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b);
Tensor clamp(const Tensor& x, std::optional<double> min, std::optional<double> max);
Tensor clamp(const Tensor& x, const Tensor& min, const Tensor& max);
// A 0-d tensor holding `value` in the dtype that `like` would pair it with (its own dtype when
// floating, or when the value is integral and `like` is an integer tensor; f32 otherwise).
Tensor scalar_like(const Tensor& like, double value);

// ---- reductions (empty axes = all axes) -------------------------------------------------------
Tensor sum(const Tensor& x, std::vector<int64_t> axes = {}, bool keepdims = false);
Tensor mean(const Tensor& x, std::vector<int64_t> axes = {}, bool keepdims = false);
Tensor prod(const Tensor& x, std::vector<int64_t> axes = {}, bool keepdims = false);
Tensor max(const Tensor& x, std::vector<int64_t> axes = {}, bool keepdims = false);
Tensor min(const Tensor& x, std::vector<int64_t> axes = {}, bool keepdims = false);
Tensor argmax(const Tensor& x, std::optional<int64_t> axis = {}, bool keepdims = false);
Tensor argmin(const Tensor& x, std::optional<int64_t> axis = {}, bool keepdims = false);
// correction = 1 gives the unbiased estimate (PyTorch's default), 0 the population variance.
Tensor var(const Tensor& x, std::vector<int64_t> axes = {}, int64_t correction = 1,
           bool keepdims = false);
Tensor std(const Tensor& x, std::vector<int64_t> axes = {}, int64_t correction = 1,
           bool keepdims = false);
Tensor logsumexp(const Tensor& x, std::vector<int64_t> axes = {}, bool keepdims = false);
Tensor all(const Tensor& x, std::vector<int64_t> axes = {}, bool keepdims = false);
Tensor any(const Tensor& x, std::vector<int64_t> axes = {}, bool keepdims = false);
// p-norm over axes; p = inf is the max norm.
Tensor norm(const Tensor& x, double p = 2.0, std::vector<int64_t> axes = {}, bool keepdims = false);

// ---- linear algebra and normalization ---------------------------------------------------------
// NumPy matmul semantics: 1-d operands are promoted and the batch dimensions broadcast.
Tensor matmul(const Tensor& a, const Tensor& b);
// A dense layer in one op: activation(x @ w + b) with x [..., in], w [in, out], b [out] (an
// undefined b: no bias), activation "linear" or "relu"; operands of one floating dtype. Devices
// fuse the bias and the activation into the product.
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b = Tensor(),
              const std::string& activation = "linear");
// Explicit-output einsum ("ij,jk->ik", "bij,bjk->bik", "i,i->", "ij->ji", ...).
Tensor einsum(const std::string& equation, const std::vector<Tensor>& operands);
Tensor softmax(const Tensor& x, int64_t axis = -1);
Tensor log_softmax(const Tensor& x, int64_t axis = -1);
// Layer normalization over the axes [axis, rank): each row of them becomes
// (x - mean) / sqrt(var + epsilon) (population variance), times gamma plus beta, which have the
// normalized axes' shape; an undefined gamma or beta leaves out the scale or the shift. The
// operands are promoted to one floating dtype; f16/bf16 compute in f32.
Tensor layer_norm(const Tensor& x, const Tensor& gamma = {}, const Tensor& beta = {},
                  int64_t axis = -1, double epsilon = 1e-5);

// ---- batch normalization ----------------------------------------------------------------------
// Each channel (the extent of `axis` of x, rank >= 2) is normalized over every other axis:
// y = (x - mean) * rsqrt(var + epsilon) * gamma + beta. gamma and beta are [C] of x's dtype; an
// undefined gamma is ones and an undefined beta zeros.
struct BatchNormResult {
  Tensor y;
  Tensor mean, var;  // [C]: the batch's mean and biased variance
};
// Training mode: normalizes with the batch's own statistics and returns them.
BatchNormResult batch_norm(const Tensor& x, const Tensor& gamma = {}, const Tensor& beta = {},
                           int64_t axis = 1, double epsilon = 1e-5);
// Inference mode: normalizes with the given statistics (e.g. moving averages).
Tensor batch_norm_inference(const Tensor& x, const Tensor& mean, const Tensor& var,
                            const Tensor& gamma = {}, const Tensor& beta = {}, int64_t axis = 1,
                            double epsilon = 1e-5);

// ---- convolution and pooling (NCW / NCHW, weights OIW / OIHW) ---------------------------------
struct Conv2dOptions {
  std::vector<int64_t> stride{1, 1};
  std::vector<int64_t> padding{0, 0};  // per spatial axis, applied on both sides
  std::string padding_mode;            // "" (use padding), "valid" or "same"
  std::vector<int64_t> dilation{1, 1};
  int64_t groups = 1;
};
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = {},
              const Conv2dOptions& options = {});
Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias = {}, int64_t stride = 1,
              int64_t padding = 0, int64_t dilation = 1, int64_t groups = 1,
              const std::string& padding_mode = "");
// Weight layout (in, out / groups, kh, kw), as PyTorch's ConvTranspose2d.
Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias = {},
                        std::vector<int64_t> stride = {1, 1}, std::vector<int64_t> padding = {0, 0},
                        std::vector<int64_t> output_padding = {0, 0},
                        std::vector<int64_t> dilation = {1, 1}, int64_t groups = 1);
Tensor max_pool2d(const Tensor& x, std::vector<int64_t> kernel, std::vector<int64_t> stride = {},
                  std::vector<int64_t> padding = {0, 0});
Tensor avg_pool2d(const Tensor& x, std::vector<int64_t> kernel, std::vector<int64_t> stride = {},
                  std::vector<int64_t> padding = {0, 0}, bool count_include_pad = true);
Tensor max_pool1d(const Tensor& x, int64_t kernel, std::optional<int64_t> stride = {},
                  int64_t padding = 0);
Tensor avg_pool1d(const Tensor& x, int64_t kernel, std::optional<int64_t> stride = {},
                  int64_t padding = 0, bool count_include_pad = true);

// ---- indexing ---------------------------------------------------------------------------------
// Index tensors are i32 or i64 (else DTypeError). gather, scatter, scatter_add, take and
// index_select accept negative indices counting from the end, as NumPy's take; one_hot accepts
// [0, depth). Any other index throws IndexError naming its value, position and the valid range,
// before any result is written.
// out[i][j] = x[index[i][j]][j] for axis 0 (PyTorch gather); index has x's rank and
// index.size(d) <= x.size(d) for d != axis; the output has index's shape.
Tensor gather(const Tensor& x, int64_t axis, const Tensor& index);
// A copy of x with out[index[i][j]][j] = src[i][j] (axis 0); scatter_add accumulates. src has
// x's dtype and at least index's extents. Duplicate indices resolve in index order along the
// axis, whatever the thread count: scatter keeps the last write, scatter_add adds in that order
// (bool accumulates as logical or, integers wrap around).
Tensor scatter(const Tensor& x, int64_t axis, const Tensor& index, const Tensor& src);
Tensor scatter_add(const Tensor& x, int64_t axis, const Tensor& index, const Tensor& src);
Tensor take(const Tensor& x, const Tensor& flat_index);                   // indexes the flattened x
Tensor index_select(const Tensor& x, int64_t axis, const Tensor& index);  // index is 1-d (or 0-d)
// Shape indices.shape + [depth]; depth must be positive. Not differentiable.
Tensor one_hot(const Tensor& indices, int64_t depth, DType dtype = DType::F32);
// mask is bool and broadcasts to x's shape; value converts to x's dtype as cast does.
Tensor masked_fill(const Tensor& x, const Tensor& mask, double value);
// x and mask (bool) broadcast together; the selected elements in row-major order.
Tensor masked_select(const Tensor& x, const Tensor& mask);  // 1-d result

// ---- joining, splitting and rearranging -------------------------------------------------------
Tensor concat(const std::vector<Tensor>& tensors, int64_t axis = 0);
Tensor stack(const std::vector<Tensor>& tensors, int64_t axis = 0);
std::vector<Tensor> split(const Tensor& x, std::vector<int64_t> sizes, int64_t axis = 0);
std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t axis = 0);
Tensor tile(const Tensor& x, std::vector<int64_t> repeats);
Tensor repeat(const Tensor& x, int64_t repeats, int64_t axis);  // NumPy repeat along an axis
// pads: (before, after) pairs from the first axis on; mode "constant" or "reflect".
Tensor pad(const Tensor& x, std::vector<int64_t> pads, const std::string& mode = "constant",
           double value = 0.0);
Tensor flip(const Tensor& x, std::vector<int64_t> axes);
Tensor roll(const Tensor& x, std::vector<int64_t> shifts, std::vector<int64_t> axes);
// Stable sort; returns (values, i64 indices).
std::pair<Tensor, Tensor> sort(const Tensor& x, int64_t axis = -1, bool descending = false);
Tensor argsort(const Tensor& x, int64_t axis = -1, bool descending = false);
std::pair<Tensor, Tensor> topk(const Tensor& x, int64_t k, int64_t axis = -1, bool largest = true);
Tensor cumsum(const Tensor& x, int64_t axis);
Tensor cumprod(const Tensor& x, int64_t axis);
Tensor cast(const Tensor& x, DType dtype);

// ---- building blocks of gradient rules ------------------------------------------------------
// Sums x over the axes that broadcasting expanded, giving `shape` (the inverse of broadcast_to).
Tensor sum_to(const Tensor& x, const Dims& shape);
// A view of x's elements in row-major order taken with `strides` from `offset` (elements). The
// window must stay inside x and not overlap itself.
Tensor as_strided(const Tensor& x, Dims shape, Dims strides, int64_t offset);
// Zeros of `base_shape` with src written through the as_strided window: as_strided's gradient.
Tensor as_strided_scatter(const Tensor& src, Dims base_shape, Dims strides, int64_t offset);

// ---- comparison of values ---------------------------------------------------------------------
// |a - b| <= atol + rtol * |b| elementwise (broadcasting), NaNs equal when equal_nan.
bool allclose(const Tensor& a, const Tensor& b, double rtol = 1e-5, double atol = 1e-8,
              bool equal_nan = false);

// ---- operators --------------------------------------------------------------------------------
Tensor operator-(const Tensor& x);
Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator+(const Tensor& a, double b);
Tensor operator-(const Tensor& a, double b);
Tensor operator*(const Tensor& a, double b);
Tensor operator/(const Tensor& a, double b);
Tensor operator+(double a, const Tensor& b);
Tensor operator-(double a, const Tensor& b);
Tensor operator*(double a, const Tensor& b);
Tensor operator/(double a, const Tensor& b);
Tensor operator==(const Tensor& a, const Tensor& b);
Tensor operator!=(const Tensor& a, const Tensor& b);
Tensor operator<(const Tensor& a, const Tensor& b);
Tensor operator<=(const Tensor& a, const Tensor& b);
Tensor operator>(const Tensor& a, const Tensor& b);
Tensor operator>=(const Tensor& a, const Tensor& b);
Tensor operator&&(const Tensor& a, const Tensor& b);
Tensor operator||(const Tensor& a, const Tensor& b);
Tensor operator!(const Tensor& x);

}  // namespace tenflowers
