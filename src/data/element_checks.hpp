#pragma once
// The check that elements stacked together (batch, DataLoader over a Dataset) agree.
#include <string_view>

#include "tenflowers/data/dataset.hpp"

namespace tenflowers::data::detail {

// Throws ShapeError / DTypeError / InvalidArgument unless `element` (number `index` of the
// dataset) has the components, dtypes and shapes of `first` (number `first_index`); `who`
// prefixes the message.
void check_same_structure(std::string_view who, const Element& first, int64_t first_index,
                          const Element& element, int64_t index);

}  // namespace tenflowers::data::detail
