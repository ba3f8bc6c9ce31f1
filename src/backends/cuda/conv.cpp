// conv2d, conv_transpose2d and conv2d_weight_grad through cuDNN (its forward, backward-data and
// backward-filter convolutions), with the algorithm of each configuration found once by
// measurement and cached. cuDNN pads symmetrically: the uneven part of ONNX-style padding is
// added to the input explicitly (or, for the transposed convolution, cropped from the output).
// The legacy (non-graph) cuDNN API is deprecated in cuDNN 9 but complete for these ops.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#include <cudnn.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "src/backends/cuda/kernel_host.hpp"
#include "src/backends/cuda/register.hpp"
#include "src/backends/cuda/runtime.hpp"
#include "src/core/ops/conv.hpp"
#include "tenflowers/core/backend.hpp"
#include "tenflowers/core/dispatch.hpp"
#include "tenflowers/core/tensor.hpp"

namespace tenflowers::cuda {
namespace {

void check_dnn(cudnnStatus_t status, const char* what) {
  if (status == CUDNN_STATUS_SUCCESS) return;
  const std::string message = std::string(what) + " failed: " + cudnnGetErrorString(status);
  if (status == CUDNN_STATUS_ALLOC_FAILED) throw OutOfMemoryError(message);
  throw DeviceError(message);
}

cudnnHandle_t dnn_handle(int device) {
  static std::mutex mutex;
  static auto* handles =
      new std::vector<cudnnHandle_t>(static_cast<size_t>(visible_device_count()), nullptr);
  const cudaStream_t stream = use_device(device);
  std::lock_guard lock(mutex);
  cudnnHandle_t& handle = handles->at(static_cast<size_t>(device));
  if (!handle) {
    refuse_during_capture(stream, "creating the cuDNN handle (the device's first convolution)");
    check_dnn(cudnnCreate(&handle), "cudnnCreate");
    check_dnn(cudnnSetStream(handle, stream), "cudnnSetStream");
  }
  return handle;
}

struct TypeInfo {
  cudnnDataType_t data, compute;
  cudnnMathType_t math;
};

TypeInfo type_info(DType type) {
  switch (type) {
    case DType::F16:
      return {CUDNN_DATA_HALF, CUDNN_DATA_FLOAT, CUDNN_TENSOR_OP_MATH};
    case DType::BF16:
      return {CUDNN_DATA_BFLOAT16, CUDNN_DATA_FLOAT, CUDNN_TENSOR_OP_MATH};
    case DType::F32:  // TF32 only when allowed, as for matmul
      return {CUDNN_DATA_FLOAT, CUDNN_DATA_FLOAT,
              matmul_allow_tf32() ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH};
    case DType::F64:
      return {CUDNN_DATA_DOUBLE, CUDNN_DATA_DOUBLE, CUDNN_DEFAULT_MATH};
    default:
      throw DTypeError("cuDNN convolutions take floating dtypes, got " +
                       std::string(dtype_name(type)));
  }
}

// Descriptors of one convolution: x (the forward input), w, y (the forward output).
class ConvDescriptors {
 public:
  ConvDescriptors(DType type, const Dims& x, const Dims& w, const Dims& y,
                  const conv::ConvParams2d& p, int64_t pad_h, int64_t pad_w) {
    const TypeInfo info = type_info(type);
    check_dnn(cudnnCreateTensorDescriptor(&x_), "cudnnCreateTensorDescriptor");
    check_dnn(cudnnCreateTensorDescriptor(&y_), "cudnnCreateTensorDescriptor");
    check_dnn(cudnnCreateFilterDescriptor(&w_), "cudnnCreateFilterDescriptor");
    check_dnn(cudnnCreateConvolutionDescriptor(&conv_), "cudnnCreateConvolutionDescriptor");
    set_nchw(x_, info.data, x);
    set_nchw(y_, info.data, y);
    check_dnn(cudnnSetFilter4dDescriptor(w_, info.data, CUDNN_TENSOR_NCHW, as_int(w[0]),
                                         as_int(w[1]), as_int(w[2]), as_int(w[3])),
              "cudnnSetFilter4dDescriptor");
    check_dnn(cudnnSetConvolution2dDescriptor(conv_, as_int(pad_h), as_int(pad_w),
                                              as_int(p.stride_h), as_int(p.stride_w),
                                              as_int(p.dilation_h), as_int(p.dilation_w),
                                              CUDNN_CROSS_CORRELATION, info.compute),
              "cudnnSetConvolution2dDescriptor");
    check_dnn(cudnnSetConvolutionGroupCount(conv_, as_int(p.groups)),
              "cudnnSetConvolutionGroupCount");
    check_dnn(cudnnSetConvolutionMathType(conv_, info.math), "cudnnSetConvolutionMathType");
  }
  ~ConvDescriptors() {
    cudnnDestroyTensorDescriptor(x_);
    cudnnDestroyTensorDescriptor(y_);
    cudnnDestroyFilterDescriptor(w_);
    cudnnDestroyConvolutionDescriptor(conv_);
  }
  ConvDescriptors(const ConvDescriptors&) = delete;
  ConvDescriptors& operator=(const ConvDescriptors&) = delete;

  cudnnTensorDescriptor_t x() const { return x_; }
  cudnnTensorDescriptor_t y() const { return y_; }
  cudnnFilterDescriptor_t w() const { return w_; }
  cudnnConvolutionDescriptor_t conv() const { return conv_; }

  static int as_int(int64_t v) {
    TF_CHECK(v <= INT32_MAX, UnsupportedError, "cuDNN takes 32-bit extents, got ", v);
    return static_cast<int>(v);
  }

 private:
  static void set_nchw(cudnnTensorDescriptor_t d, cudnnDataType_t type, const Dims& s) {
    check_dnn(cudnnSetTensor4dDescriptor(d, CUDNN_TENSOR_NCHW, type, as_int(s[0]), as_int(s[1]),
                                         as_int(s[2]), as_int(s[3])),
              "cudnnSetTensor4dDescriptor");
  }
  cudnnTensorDescriptor_t x_ = nullptr, y_ = nullptr;
  cudnnFilterDescriptor_t w_ = nullptr;
  cudnnConvolutionDescriptor_t conv_ = nullptr;
};

enum class Pass { Forward, BackwardData, BackwardFilter };

// The fastest algorithm of a configuration, measured by cuDNN on first use.
struct Choice {
  int algo = 0;
  size_t workspace = 0;
  cudnnMathType_t math = CUDNN_DEFAULT_MATH;  // the math the algorithm was measured with
};
using ConfigKey =
    std::tuple<int, int, int, std::vector<int64_t>>;  // pass, device, dtype+math, dims

Choice choose(Pass pass, int device, DType type, const ConvDescriptors& d, const Dims& x,
              const Dims& w, const Dims& y, const conv::ConvParams2d& p, int64_t pad_h,
              int64_t pad_w) {
  static std::mutex mutex;
  static std::map<ConfigKey, Choice> cache;
  std::vector<int64_t> dims;
  for (const Dims* s : {&x, &w, &y}) dims.insert(dims.end(), s->begin(), s->end());
  dims.insert(dims.end(),
              {p.stride_h, p.stride_w, p.dilation_h, p.dilation_w, p.groups, pad_h, pad_w});
  const ConfigKey key{static_cast<int>(pass), device,
                      static_cast<int>(type) * 2 + (matmul_allow_tf32() ? 1 : 0), dims};
  std::lock_guard lock(mutex);
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  refuse_during_capture(device,
                        "cuDNN's algorithm search for a convolution configuration not run "
                        "before (it runs and times kernels)");
  const cudnnHandle_t handle = dnn_handle(device);
  Choice choice;
  int found = 0;
  auto pick = [&](const auto& results) {
    for (int i = 0; i < found; ++i) {
      if (results[i].status == CUDNN_STATUS_SUCCESS) {
        choice = {static_cast<int>(results[i].algo), results[i].memory, results[i].mathType};
        return;
      }
    }
    throw UnsupportedError("cuDNN has no algorithm for this convolution");
  };
  constexpr int kRequested = 8;
  if (pass == Pass::Forward) {
    cudnnConvolutionFwdAlgoPerf_t results[kRequested];
    check_dnn(cudnnFindConvolutionForwardAlgorithm(handle, d.x(), d.w(), d.conv(), d.y(),
                                                   kRequested, &found, results),
              "cudnnFindConvolutionForwardAlgorithm");
    pick(results);
  } else if (pass == Pass::BackwardData) {
    cudnnConvolutionBwdDataAlgoPerf_t results[kRequested];
    check_dnn(cudnnFindConvolutionBackwardDataAlgorithm(handle, d.w(), d.y(), d.conv(), d.x(),
                                                        kRequested, &found, results),
              "cudnnFindConvolutionBackwardDataAlgorithm");
    pick(results);
  } else {
    cudnnConvolutionBwdFilterAlgoPerf_t results[kRequested];
    check_dnn(cudnnFindConvolutionBackwardFilterAlgorithm(handle, d.x(), d.y(), d.conv(), d.w(),
                                                          kRequested, &found, results),
              "cudnnFindConvolutionBackwardFilterAlgorithm");
    pick(results);
  }
  cache.emplace(key, choice);
  return choice;
}

// Scaling factors in the type cuDNN expects: double for f64, float otherwise.
struct Scale {
  float one_f = 1.0f, zero_f = 0.0f;
  double one_d = 1.0, zero_d = 0.0;
  bool is_double;
  explicit Scale(DType type) : is_double(type == DType::F64) {}
  const void* one() const { return is_double ? static_cast<const void*>(&one_d) : &one_f; }
  const void* zero() const { return is_double ? static_cast<const void*>(&zero_d) : &zero_f; }
};

// Runs one convolution pass: Forward writes y from (x, w), BackwardData writes x from (y, w),
// BackwardFilter writes w from (x, y). The tensors are contiguous NCHW on `device`.
void convolve(Pass pass, int device, const Tensor& x, const Tensor& w, const Tensor& y,
              const conv::ConvParams2d& p, int64_t pad_h, int64_t pad_w) {
  const DType type = x.dtype();
  const ConvDescriptors d(type, x.shape(), w.shape(), y.shape(), p, pad_h, pad_w);
  const Choice choice =
      choose(pass, device, type, d, x.shape(), w.shape(), y.shape(), p, pad_h, pad_w);
  // cuDNN may have measured the algorithm with another math than the one asked for (plain FMA
  // where tensor cores cannot take the configuration); the call must use that same math.
  check_dnn(cudnnSetConvolutionMathType(d.conv(), choice.math), "cudnnSetConvolutionMathType");
  const Tensor workspace =
      Tensor::empty({static_cast<int64_t>(choice.workspace)}, DType::U8, Device::cuda(device));
  void* ws = choice.workspace ? workspace.data_ptr() : nullptr;
  const cudnnHandle_t handle = dnn_handle(device);
  const Scale s(type);
  if (pass == Pass::Forward) {
    check_dnn(cudnnConvolutionForward(handle, s.one(), d.x(), x.data_ptr(), d.w(), w.data_ptr(),
                                      d.conv(), static_cast<cudnnConvolutionFwdAlgo_t>(choice.algo),
                                      ws, choice.workspace, s.zero(), d.y(), y.data_ptr()),
              "cudnnConvolutionForward");
  } else if (pass == Pass::BackwardData) {
    check_dnn(cudnnConvolutionBackwardData(handle, s.one(), d.w(), w.data_ptr(), d.y(),
                                           y.data_ptr(), d.conv(),
                                           static_cast<cudnnConvolutionBwdDataAlgo_t>(choice.algo),
                                           ws, choice.workspace, s.zero(), d.x(), x.data_ptr()),
              "cudnnConvolutionBackwardData");
  } else {
    check_dnn(cudnnConvolutionBackwardFilter(
                  handle, s.one(), d.x(), x.data_ptr(), d.y(), y.data_ptr(), d.conv(),
                  static_cast<cudnnConvolutionBwdFilterAlgo_t>(choice.algo), ws, choice.workspace,
                  s.zero(), d.w(), w.data_ptr()),
              "cudnnConvolutionBackwardFilter");
  }
}

// y (N, C, H, W) += bias (C) broadcast over images and positions.
void add_bias(int device, const Tensor& y, const Tensor& bias) {
  const TypeInfo info = type_info(y.dtype());
  cudnnTensorDescriptor_t yd = nullptr, bd = nullptr;
  check_dnn(cudnnCreateTensorDescriptor(&yd), "cudnnCreateTensorDescriptor");
  check_dnn(cudnnCreateTensorDescriptor(&bd), "cudnnCreateTensorDescriptor");
  const Dims& s = y.shape();
  using D = ConvDescriptors;
  cudnnStatus_t status =
      cudnnSetTensor4dDescriptor(yd, CUDNN_TENSOR_NCHW, info.data, D::as_int(s[0]), D::as_int(s[1]),
                                 D::as_int(s[2]), D::as_int(s[3]));
  if (status == CUDNN_STATUS_SUCCESS) {
    status = cudnnSetTensor4dDescriptor(bd, CUDNN_TENSOR_NCHW, info.data, 1, D::as_int(s[1]), 1, 1);
  }
  const Scale scale(y.dtype());
  if (status == CUDNN_STATUS_SUCCESS) {
    status = cudnnAddTensor(dnn_handle(device), scale.one(), bd, bias.data_ptr(), scale.one(), yd,
                            y.data_ptr());
  }
  cudnnDestroyTensorDescriptor(yd);
  cudnnDestroyTensorDescriptor(bd);
  check_dnn(status, "cudnnAddTensor (bias)");
}

// dst (a view of a CUDA tensor, strided allowed) = src, through the copy kernel.
void copy_into_view(const Tensor& dst, const Tensor& src) {
  const OpDef& copy = registry().get("copy");
  Tensor target = dst;
  const Tensor source = src;
  const Attrs none;
  KernelContext ctx{copy, std::span<const Tensor>(&source, 1), none, std::span<Tensor>(&target, 1),
                    dst.device()};
  copy.kernel(DeviceType::CUDA).fn(ctx);
}

// A contiguous NCHW tensor holding x with zero rows above and below and zero columns left and
// right of each image.
Tensor zero_padded(const Tensor& x, int64_t top, int64_t bottom, int64_t left, int64_t right) {
  const Dims& s = x.shape();
  const Tensor padded =
      Tensor::empty({s[0], s[1], s[2] + top + bottom, s[3] + left + right}, x.dtype(), x.device());
  check(cudaMemsetAsync(padded.data_ptr(), 0, padded.nbytes(), use_device(x.device().index)),
        "cudaMemsetAsync");
  HooksPaused paused;
  copy_into_view(padded.slice(2, top, top + s[2]).slice(3, left, left + s[3]), x);
  return padded;
}

// x with the uneven part of the padding added explicitly: cuDNN then pads min(top, bottom) rows
// and min(left, right) columns on both sides.
Tensor pad_unevenly(const Tensor& x, const conv::Pads2d& pads) {
  const int64_t ph = std::min(pads.top, pads.bottom), pw = std::min(pads.left, pads.right);
  if (pads.top == pads.bottom && pads.left == pads.right) return contiguous(x);
  return zero_padded(x, pads.top - ph, pads.bottom - ph, pads.left - pw, pads.right - pw);
}

void conv2d_kernel(KernelContext& ctx) {
  const conv::ConvParams2d p = conv::read_conv_params(ctx.attrs, "conv2d", false);
  const int device = ctx.device.index;
  const Tensor x = pad_unevenly(ctx.inputs[0], p.pads);
  const Tensor w = contiguous(ctx.inputs[1]);
  const Tensor& y = ctx.outputs[0];
  if (y.numel() == 0) return;
  convolve(Pass::Forward, device, x, w, y, p, std::min(p.pads.top, p.pads.bottom),
           std::min(p.pads.left, p.pads.right));
  if (ctx.inputs.size() > 2) add_bias(device, y, contiguous(ctx.inputs[2]));
}

void conv_transpose2d_kernel(KernelContext& ctx) {
  const conv::ConvParams2d p = conv::read_conv_params(ctx.attrs, "conv_transpose2d", true);
  const int device = ctx.device.index;
  const Tensor x = contiguous(ctx.inputs[0]);
  const Tensor w = contiguous(ctx.inputs[1]);
  const Tensor& out = ctx.outputs[0];
  if (out.numel() == 0) return;
  // The transposed convolution is the backward-data pass of a convolution from a buffer to x,
  // with symmetric padding. That pass writes the buffer rows that convolution reads: at most
  // (H - 1) * stride + dilation * (kernel - 1) + stride - 2 * pad rows. With the padding kept
  // below the stride, every row some input reaches is among them; the output is the buffer
  // cropped by the rest of the top padding, and rows past the buffer are reached by no input
  // (zeros, as an output_padding of a stride or more makes).
  const auto buffer_extent = [](int64_t in, int64_t stride, int64_t dilation, int64_t kernel,
                                int64_t pad) {
    return (in - 1) * stride + dilation * (kernel - 1) + stride - 2 * pad;
  };
  const int64_t ph = std::min({p.pads.top, p.pads.bottom, p.stride_h - 1});
  const int64_t pw = std::min({p.pads.left, p.pads.right, p.stride_w - 1});
  const Dims& s = out.shape();
  const int64_t buffer_h = buffer_extent(x.shape()[2], p.stride_h, p.dilation_h, w.shape()[2], ph);
  const int64_t buffer_w = buffer_extent(x.shape()[3], p.stride_w, p.dilation_w, w.shape()[3], pw);
  const int64_t crop_h = p.pads.top - ph, crop_w = p.pads.left - pw;
  if (crop_h == 0 && crop_w == 0 && buffer_h == s[2] && buffer_w == s[3]) {
    convolve(Pass::BackwardData, device, out, w, x, p, ph, pw);
  } else {
    const Tensor buffer = Tensor::empty({s[0], s[1], buffer_h, buffer_w}, out.dtype(), ctx.device);
    convolve(Pass::BackwardData, device, buffer, w, x, p, ph, pw);
    check(cudaMemsetAsync(out.data_ptr(), 0, out.nbytes(), use_device(device)), "cudaMemsetAsync");
    const int64_t rows = std::min(s[2], buffer_h - crop_h);
    const int64_t cols = std::min(s[3], buffer_w - crop_w);
    if (rows > 0 && cols > 0) {
      HooksPaused paused;
      copy_into_view(out.slice(2, 0, rows).slice(3, 0, cols),
                     buffer.slice(2, crop_h, crop_h + rows).slice(3, crop_w, crop_w + cols));
    }
  }
  if (ctx.inputs.size() > 2) add_bias(device, out, contiguous(ctx.inputs[2]));
}

void conv2d_weight_grad_kernel(KernelContext& ctx) {
  const conv::ConvParams2d p = conv::read_conv_params(ctx.attrs, "conv2d_weight_grad", false);
  const int device = ctx.device.index;
  const Tensor x = pad_unevenly(ctx.inputs[0], p.pads);
  Tensor dy = contiguous(ctx.inputs[1]);
  const Tensor& dw = ctx.outputs[0];
  if (dw.numel() == 0) return;
  const int64_t ph = std::min(p.pads.top, p.pads.bottom), pw = std::min(p.pads.left, p.pads.right);
  // dy may cover fewer window positions than x allows; the missing ones contribute nothing.
  const Dims& ws = dw.shape();
  const int64_t full_h =
      conv::window_positions(x.shape()[2], 2 * ph, ws[2], p.stride_h, p.dilation_h);
  const int64_t full_w =
      conv::window_positions(x.shape()[3], 2 * pw, ws[3], p.stride_w, p.dilation_w);
  if (dy.numel() == 0 || x.numel() == 0) {
    check(cudaMemsetAsync(dw.data_ptr(), 0, dw.nbytes(), use_device(device)), "cudaMemsetAsync");
    return;
  }
  if (full_h != dy.shape()[2] || full_w != dy.shape()[3]) {
    dy = zero_padded(dy, 0, full_h - dy.shape()[2], 0, full_w - dy.shape()[3]);
  }
  convolve(Pass::BackwardFilter, device, x, dw, dy, p, ph, pw);
}

}  // namespace

void register_cuda_conv_kernels(OpRegistry& r) {
  r.add_kernel("conv2d", DeviceType::CUDA, conv2d_kernel, kFloatDTypes);
  r.add_kernel("conv_transpose2d", DeviceType::CUDA, conv_transpose2d_kernel, kFloatDTypes);
  r.add_kernel("conv2d_weight_grad", DeviceType::CUDA, conv2d_weight_grad_kernel, kFloatDTypes);
}

}  // namespace tenflowers::cuda
