#include "tenflowers/core/op_registry.hpp"

#include "src/core/ops/register.hpp"
#include "tenflowers/core/error.hpp"
#include "tenflowers/core/tensor.hpp"

namespace tenflowers {

uint32_t dtype_mask(std::initializer_list<DType> dtypes) {
  uint32_t mask = 0;
  for (DType d : dtypes) mask |= 1u << static_cast<int>(d);
  return mask;
}

const uint32_t kAllDTypes = (1u << kNumDTypes) - 1;
const uint32_t kFloatDTypes = dtype_mask({DType::F16, DType::BF16, DType::F32, DType::F64});
const uint32_t kIntegralDTypes = dtype_mask({DType::U8, DType::I8, DType::I32, DType::I64});
const uint32_t kNumericDTypes = kFloatDTypes | kIntegralDTypes;

OpBuilder OpRegistry::def(std::string name) {
  if (by_name_.count(name)) throw InvalidArgument("op '" + name + "' is already defined");
  auto def = std::make_unique<OpDef>();
  def->name = name;
  def->id = static_cast<uint32_t>(ops_.size());
  OpDef* raw = def.get();
  ops_.push_back(std::move(def));
  by_name_.emplace(std::move(name), raw);
  return OpBuilder(*raw);
}

void OpRegistry::add_kernel(std::string_view op, DeviceType device, KernelFn fn, uint32_t mask) {
  auto it = by_name_.find(std::string(op));
  if (it == by_name_.end()) {
    throw InvalidArgument("cannot add a kernel to unknown op '" + std::string(op) + "'");
  }
  it->second->kernels[static_cast<int>(device)] = KernelEntry{std::move(fn), mask};
}

const OpDef* OpRegistry::find(std::string_view name) const {
  auto it = by_name_.find(std::string(name));
  return it == by_name_.end() ? nullptr : it->second;
}

const OpDef& OpRegistry::get(std::string_view name) const {
  const OpDef* def = find(name);
  if (!def) throw InvalidArgument("unknown op '" + std::string(name) + "'");
  return *def;
}

std::vector<const OpDef*> OpRegistry::all() const {
  std::vector<const OpDef*> out;
  out.reserve(ops_.size());
  for (const auto& def : ops_) out.push_back(def.get());
  return out;
}

bool OpRegistry::supports(std::string_view op, DeviceType device, DType dtype) const {
  const OpDef* def = find(op);
  if (!def) return false;
  if (def->direct) return true;
  const KernelEntry& k = def->kernel(device);
  return k && k.supports(dtype);
}

OpRegistry& registry() {
  static OpRegistry* instance = [] {
    auto* r = new OpRegistry();  // never destroyed: ops may run during static destruction
    register_core_ops(*r);
    return r;
  }();
  return *instance;
}

}  // namespace tenflowers
