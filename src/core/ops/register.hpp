#pragma once
// Each file under src/core/ops defines one family of ops; register_core_ops calls them all.
#include "tenflowers/core/op_registry.hpp"

namespace tenflowers {

void register_core_ops(OpRegistry& r);

void register_view_ops(OpRegistry& r);       // views.cpp
void register_copy_ops(OpRegistry& r);       // copy.cpp: copy, cast, to_device
void register_creation_ops(OpRegistry& r);   // creation.cpp: fill, arange, linspace, eye, random
void register_unary_ops(OpRegistry& r);      // unary.cpp
void register_binary_ops(OpRegistry& r);     // binary.cpp: arithmetic, comparison, logical, where
void register_reduction_ops(OpRegistry& r);  // reduction.cpp
void register_linalg_ops(OpRegistry& r);     // linalg.cpp: matmul, softmax family
void register_linear_ops(OpRegistry& r);     // linear.cpp: activation(x @ w + b)
void register_conv_ops(OpRegistry& r);       // conv.cpp: convolution and pooling
void register_index_ops(OpRegistry& r);      // index.cpp: gather, scatter, take, one_hot, masks
void register_shape_ops(OpRegistry& r);      // shape.cpp: concat, split, tile, pad, sort, ...
void register_optimizer_ops(OpRegistry& r);  // optimizer.cpp: fused sgd/adam/rmsprop/adagrad
void register_fused_ops(OpRegistry& r);      // fused.cpp: fused_elementwise
void register_normalization_ops(OpRegistry& r);  // normalization.cpp: layer_norm and its gradient
void register_batch_norm_ops(OpRegistry& r);  // batch_norm.cpp: batch_norm, its inference and grad

}  // namespace tenflowers
