#include "src/data/element_checks.hpp"

namespace tenflowers::data::detail {

void check_same_structure(std::string_view who, const Element& first, int64_t first_index,
                          const Element& element, int64_t index) {
  TF_CHECK(element.size() == first.size(), ShapeError, who, ": element ", index, " has ",
           element.size(), " components but element ", first_index, " has ", first.size());
  for (size_t c = 0; c < first.size(); ++c) {
    TF_CHECK(element[c].defined(), InvalidArgument, who, ": element ", index, " component ", c,
             " is an undefined tensor");
    TF_CHECK(element[c].dtype() == first[c].dtype(), DTypeError, who, ": element ", index,
             " component ", c, " has dtype ", dtype_name(element[c].dtype()), " but element ",
             first_index, " has ", dtype_name(first[c].dtype()));
    TF_CHECK(element[c].shape() == first[c].shape(), ShapeError, who, ": element ", index,
             " component ", c, " has shape ", element[c].shape(), " but element ", first_index,
             " has ", first[c].shape());
  }
}

}  // namespace tenflowers::data::detail
