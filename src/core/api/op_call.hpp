#pragma once
// Shorthand for the public API files: look an op up once, then dispatch it.
#include "tenflowers/core/dispatch.hpp"
#include "tenflowers/core/op_registry.hpp"

namespace tenflowers::detail {

// `static const OpDef& op = op_def("exp");` caches the lookup for the process.
inline const OpDef& op_def(std::string_view name) {
  return registry().get(name);
}

}  // namespace tenflowers::detail

#define TF_OP(name)                                                                \
  ([]() -> const ::tenflowers::OpDef& {                                            \
    static const ::tenflowers::OpDef& cached = ::tenflowers::detail::op_def(name); \
    return cached;                                                                 \
  }())
