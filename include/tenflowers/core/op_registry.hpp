#pragma once
// The op registry: each op is defined once here (name, arity, shape and dtype rule, gradient and
// forward-mode rules, ONNX name) and each backend adds its kernels to the same entry.
// Registration is explicit (register_*_ops functions), never by static initializers, so static
// linking keeps every op.
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tenflowers/core/attrs.hpp"
#include "tenflowers/core/device.hpp"
#include "tenflowers/core/dims.hpp"
#include "tenflowers/core/dtype.hpp"
#include "tenflowers/core/small_vector.hpp"

namespace tenflowers {

class Tensor;
struct OpDef;

struct TensorMeta {
  DType dtype = DType::F32;
  Dims shape;  // an extent of -1 means "known only after the kernel ran" (masked_select)
  Device device;
};

// What an infer rule produces: nearly every op has one or two outputs, kept without a heap
// allocation.
using TensorMetas = SmallVector<TensorMeta, 2>;

struct InferContext {
  const OpDef& op;
  std::span<const Tensor> inputs;
  const Attrs& attrs;
  Device device;        // where the op runs
  TensorMetas outputs;  // filled by the infer rule
  TensorMeta& add_output(DType dtype, Dims shape) {
    return outputs.emplace_back(TensorMeta{dtype, std::move(shape), device});
  }
};

struct KernelContext {
  const OpDef& op;
  std::span<const Tensor> inputs;
  const Attrs& attrs;
  std::span<Tensor>
      outputs;  // allocated (contiguous) unless an extent was -1: then the kernel sets it
  Device device;
};

// What a gradient rule sees: the forward call and the gradients flowing into its outputs.
// Rules are written in tensor ops, so the tape records them and higher orders come free.
struct GradContext {
  const OpDef& op;
  std::span<const Tensor> inputs;
  std::span<const Tensor> outputs;
  std::span<const Tensor> output_grads;  // undefined entries mean zero
  const Attrs& attrs;
  std::vector<bool> needs_input_grad;  // skip work for inputs nobody asked about
};
// What a forward-mode rule sees: the forward call and the tangents of its inputs.
struct JvpContext {
  const OpDef& op;
  std::span<const Tensor> inputs;
  std::span<const Tensor> outputs;
  std::span<const Tensor> input_tangents;  // undefined entries mean zero
  const Attrs& attrs;
};

using InferFn = std::function<void(InferContext&)>;
using KernelFn = std::function<void(KernelContext&)>;
// Computes outputs without a device kernel: views (sharing the input's storage) and ops composed
// of other ops or of backend copies (to_device).
using DirectFn = std::function<std::vector<Tensor>(std::span<const Tensor>, const Attrs&)>;
// One entry per input; an undefined Tensor means "no gradient flows to this input".
using GradFn = std::function<std::vector<Tensor>(const GradContext&)>;
using JvpFn = std::function<std::vector<Tensor>(const JvpContext&)>;

struct KernelEntry {
  KernelFn fn;
  uint32_t dtype_mask = 0;  // bit i set: the kernel accepts DType(i) as the first input's dtype
  explicit operator bool() const { return static_cast<bool>(fn); }
  bool supports(DType d) const { return (dtype_mask >> static_cast<int>(d)) & 1u; }
};

uint32_t dtype_mask(std::initializer_list<DType> dtypes);
extern const uint32_t kAllDTypes, kNumericDTypes, kFloatDTypes, kIntegralDTypes;

struct OpDef {
  std::string name;
  uint32_t id = 0;
  int num_inputs = 1;  // -1: variadic
  InferFn infer;
  DirectFn direct;       // set for views and kernel-free ops
  bool is_view = false;  // direct returns tensors sharing input 0's storage
  GradFn grad;
  JvpFn jvp;
  bool differentiable = true;   // false: asking for a gradient through it is an error
  bool stops_gradient = false;  // true: gradients and tangents stop here (stop_gradient)
  uint32_t non_differentiable_outputs = 0;  // bit i set: output i carries no gradient (indices)
  std::string onnx;                         // ONNX op type, empty when the exporter has no mapping
  std::array<KernelEntry, kNumDeviceTypes> kernels{};

  const KernelEntry& kernel(DeviceType t) const { return kernels[static_cast<int>(t)]; }
  bool has_kernel_free_path() const { return static_cast<bool>(direct); }
};

class OpBuilder {
 public:
  explicit OpBuilder(OpDef& def) : def_(def) {}
  OpBuilder& inputs(int n) {
    def_.num_inputs = n;
    return *this;
  }
  OpBuilder& variadic() {
    def_.num_inputs = -1;
    return *this;
  }
  OpBuilder& infer(InferFn fn) {
    def_.infer = std::move(fn);
    return *this;
  }
  OpBuilder& view(DirectFn fn) {
    def_.direct = std::move(fn);
    def_.is_view = true;
    return *this;
  }
  OpBuilder& direct(DirectFn fn) {
    def_.direct = std::move(fn);
    return *this;
  }
  OpBuilder& grad(GradFn fn) {
    def_.grad = std::move(fn);
    return *this;
  }
  OpBuilder& jvp(JvpFn fn) {
    def_.jvp = std::move(fn);
    return *this;
  }
  OpBuilder& not_differentiable() {
    def_.differentiable = false;
    return *this;
  }
  OpBuilder& stops_gradient() {
    def_.stops_gradient = true;
    return *this;
  }
  // For multi-output ops whose other outputs are differentiable (sort's indices).
  OpBuilder& output_not_differentiable(int index) {
    def_.non_differentiable_outputs |= 1u << index;
    return *this;
  }
  OpBuilder& onnx(std::string name) {
    def_.onnx = std::move(name);
    return *this;
  }

 private:
  OpDef& def_;
};

class OpRegistry {
 public:
  OpBuilder def(std::string name);  // throws InvalidArgument when already defined
  // Adds a device kernel to a defined op; throws InvalidArgument for unknown ops.
  void add_kernel(std::string_view op, DeviceType device, KernelFn fn, uint32_t dtype_mask);
  const OpDef& get(std::string_view name) const;  // throws InvalidArgument naming the op
  const OpDef* find(std::string_view name) const;
  std::vector<const OpDef*> all() const;
  bool supports(std::string_view op, DeviceType device, DType dtype) const;  // capability query

 private:
  std::vector<std::unique_ptr<OpDef>> ops_;
  std::unordered_map<std::string, OpDef*> by_name_;
};

// The process-wide registry, holding every core op definition. Backends add their kernels to it
// from tenflowers::init().
OpRegistry& registry();

}  // namespace tenflowers
