#pragma once
// Shape and dtype rules shared by several op families.
#include <vector>

#include "tenflowers/core/op_registry.hpp"
#include "tenflowers/core/tensor.hpp"

namespace tenflowers::infer {

// Output has input 0's shape and dtype.
void same_as_input(InferContext& ctx);
// Output has input 0's shape; integer and bool inputs give f32 (exp, sqrt, ...).
void same_shape_floating(InferContext& ctx);
// Broadcast shape of all inputs; dtype is the promotion of all inputs.
void broadcast_promote(InferContext& ctx);
// Broadcast shape of all inputs, bool dtype (comparisons, logical ops).
void broadcast_bool(InferContext& ctx);
// Sorted, deduplicated, normalized axes; empty means all axes.
std::vector<int64_t> reduction_axes(const std::vector<int64_t>& axes, int64_t rank);
// Shape after reducing `axes` (already normalized) with or without kept dims.
Dims reduced_shape(const Dims& shape, const std::vector<int64_t>& axes, bool keepdims);

}  // namespace tenflowers::infer
