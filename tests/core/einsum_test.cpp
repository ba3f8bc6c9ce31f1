// einsum against a float64 oracle that enumerates every assignment of the letters.
#include <gtest/gtest.h>

#include <map>

#include "tests/support/reference.hpp"

namespace tf = tenflowers;
using tf::DType;
using tf::Tensor;
using tf::testing::Ref;

namespace {

// Direct summation over all letters: out[output letters] += prod_k operand_k[its letters].
Ref einsum_oracle(const std::vector<std::string>& terms, const std::string& output,
                  const std::vector<Ref>& operands, const std::map<char, int64_t>& extents) {
  std::string letters;
  std::vector<int64_t> ranges;
  for (const auto& [c, n] : extents) {
    letters.push_back(c);
    ranges.push_back(n);
  }
  std::vector<int64_t> out_shape;
  for (char c : output) out_shape.push_back(extents.at(c));
  Ref out(out_shape);
  tf::testing::for_each_index(ranges, [&](const std::vector<int64_t>& value) {
    auto pick = [&](const std::string& term) {
      std::vector<int64_t> index;
      for (char c : term) index.push_back(value[letters.find(c)]);
      return index;
    };
    double p = 1;
    for (size_t k = 0; k < terms.size(); ++k) p *= operands[k].at(pick(terms[k]));
    out.at(pick(output)) += p;
  });
  return out;
}

struct Case {
  std::string equation;
  std::vector<std::string> terms;
  std::string output;
};

}  // namespace

TEST(Einsum, MatchesDirectSummationOnRandomInputs) {
  tf::testing::Rng rng = tf::testing::Rng::for_test();
  const std::vector<Case> cases = {
      {"ij,jk->ik", {"ij", "jk"}, "ik"},
      {"bij,bjk->bik", {"bij", "bjk"}, "bik"},
      {"i,i->", {"i", "i"}, ""},
      {"i,j->ij", {"i", "j"}, "ij"},
      {"ij->ji", {"ij"}, "ji"},
      {"ii->", {"ii"}, ""},
      {"ii->i", {"ii"}, "i"},
      {"ij->", {"ij"}, ""},
      {"ijk,ikl->jl", {"ijk", "ikl"}, "jl"},
      {"ij,jk,kl->il", {"ij", "jk", "kl"}, "il"},
      {"ij,jk", {"ij", "jk"}, "ik"},
      {"bhqd,bhkd->bhqk", {"bhqd", "bhkd"}, "bhqk"},
      {"ij,ij->i", {"ij", "ij"}, "i"},
  };
  for (const Case& c : cases) {
    std::map<char, int64_t> extents;
    for (const auto& term : c.terms) {
      for (char ch : term) extents.emplace(ch, rng.integer(1, 4));
    }
    std::vector<Tensor> operands;
    std::vector<Ref> refs;
    for (const auto& term : c.terms) {
      std::vector<int64_t> shape;
      for (char ch : term) shape.push_back(extents[ch]);
      operands.push_back(tf::testing::random_tensor(rng, shape, DType::F64, -1, 1,
                                                    tf::testing::Layout::Transposed));
      refs.push_back(tf::testing::to_ref(operands.back()));
    }
    SCOPED_TRACE(c.equation);
    EXPECT_CLOSE_TO_REF(tf::einsum(c.equation, operands),
                        einsum_oracle(c.terms, c.output, refs, extents),
                        tf::testing::tolerance_for(DType::F64));
  }
}

TEST(Einsum, RejectsBadEquations) {
  Tensor a = tf::ones({2, 3});
  Tensor b = tf::ones({4, 5});
  EXPECT_THROW(tf::einsum("ij,jk->ik", {a, b}), tf::ShapeError);
  EXPECT_THROW(tf::einsum("ij->k", {a}), tf::InvalidArgument);
  EXPECT_THROW(tf::einsum("ij,jk->ik", {a}), tf::InvalidArgument);
  EXPECT_THROW(tf::einsum("ijk->i", {a}), tf::ShapeError);
  EXPECT_THROW(tf::einsum("...ij->ij", {a}), tf::UnsupportedError);
  EXPECT_THROW(tf::einsum("i1->i", {a}), tf::InvalidArgument);
}
