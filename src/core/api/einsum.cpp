// einsum as a composition of views, sums and batched matmuls, so it inherits their kernels,
// gradients and device support. Operands are contracted left to right; each pairwise step
// becomes one [batch, M, K] x [batch, K, N] matmul.
#include <algorithm>
#include <map>
#include <numeric>
#include <set>

#include "tenflowers/core/ops.hpp"

namespace tenflowers {
namespace {

struct Term {
  Tensor tensor;
  std::string letters;  // one letter per axis, no repeats
};

bool is_label(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Resolves repeated letters (diagonals) and sums letters no one else needs.
Term prepare(Tensor t, std::string letters, const std::string& needed_elsewhere) {
  for (size_t i = 0; i < letters.size(); ++i) {
    const size_t j = letters.find(letters[i], i + 1);
    if (j == std::string::npos) continue;
    TF_CHECK(t.size(static_cast<int64_t>(i)) == t.size(static_cast<int64_t>(j)), ShapeError,
             "einsum: letter '", letters[i], "' labels axes of extents ",
             t.size(static_cast<int64_t>(i)), " and ", t.size(static_cast<int64_t>(j)));
    // diagonal() moves the merged axis last.
    t = t.diagonal(0, static_cast<int64_t>(i), static_cast<int64_t>(j));
    const char label = letters[i];
    letters.erase(j, 1);
    letters.erase(i, 1);
    letters.push_back(label);
    i = static_cast<size_t>(-1);  // rescan
  }
  std::vector<int64_t> summed;
  std::string kept;
  for (size_t i = 0; i < letters.size(); ++i) {
    if (needed_elsewhere.find(letters[i]) == std::string::npos) {
      summed.push_back(static_cast<int64_t>(i));
    } else {
      kept.push_back(letters[i]);
    }
  }
  if (!summed.empty()) t = sum(t, summed, false);
  return {t, kept};
}

Tensor permuted_to(const Term& term, const std::string& order) {
  Dims axes;
  for (char c : order) axes.push_back(static_cast<int64_t>(term.letters.find(c)));
  return term.tensor.permute(axes);
}

int64_t product(const Term& term, const std::string& letters) {
  int64_t n = 1;
  for (char c : letters) n *= term.tensor.size(static_cast<int64_t>(term.letters.find(c)));
  return n;
}

// Contracts two prepared terms, keeping letters in `keep` (needed by the output or later terms).
Term contract(const Term& a, const Term& b, const std::string& keep) {
  std::string batch, a_only, b_only, reduced;
  for (char c : a.letters) {
    const bool in_b = b.letters.find(c) != std::string::npos;
    if (!in_b) {
      a_only.push_back(c);
      continue;
    }
    TF_CHECK(a.tensor.size(static_cast<int64_t>(a.letters.find(c))) ==
                 b.tensor.size(static_cast<int64_t>(b.letters.find(c))),
             ShapeError, "einsum: letter '", c, "' has different extents in two operands");
    (keep.find(c) != std::string::npos ? batch : reduced).push_back(c);
  }
  for (char c : b.letters) {
    if (a.letters.find(c) == std::string::npos) b_only.push_back(c);
  }
  const int64_t nb = product(a, batch), m = product(a, a_only), k = product(a, reduced),
                n = product(b, b_only);
  Tensor lhs = permuted_to(a, batch + a_only + reduced).reshape({nb, m, k});
  Tensor rhs = permuted_to(b, batch + reduced + b_only).reshape({nb, k, n});
  Dims shape;
  for (char c : batch + a_only)
    shape.push_back(a.tensor.size(static_cast<int64_t>(a.letters.find(c))));
  for (char c : b_only) shape.push_back(b.tensor.size(static_cast<int64_t>(b.letters.find(c))));
  return {matmul(lhs, rhs).reshape(shape), batch + a_only + b_only};
}

}  // namespace

Tensor einsum(const std::string& equation, const std::vector<Tensor>& operands) {
  TF_CHECK(equation.find("...") == std::string::npos, UnsupportedError,
           "einsum: ellipsis ('...') is not supported; name every axis with a letter");
  std::string spec;
  for (char c : equation) {
    if (c != ' ') spec.push_back(c);
  }
  const size_t arrow = spec.find("->");
  const std::string lhs = spec.substr(0, arrow);
  std::vector<std::string> inputs;
  for (size_t start = 0;;) {
    const size_t comma = lhs.find(',', start);
    inputs.push_back(lhs.substr(start, comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  TF_CHECK(inputs.size() == operands.size(), InvalidArgument, "einsum: '", equation, "' names ",
           inputs.size(), " operand(s) but ", operands.size(), " were given");
  std::map<char, int> counts;
  for (size_t i = 0; i < inputs.size(); ++i) {
    for (char c : inputs[i]) {
      TF_CHECK(is_label(c), InvalidArgument, "einsum: invalid character '", c, "' in '", equation,
               "'");
      ++counts[c];
    }
    TF_CHECK(operands[i].defined(), InvalidArgument, "einsum: operand ", i, " is undefined");
    TF_CHECK(static_cast<int64_t>(inputs[i].size()) == operands[i].rank(), ShapeError,
             "einsum: term '", inputs[i], "' has ", inputs[i].size(), " letters but operand ", i,
             " has rank ", operands[i].rank());
  }
  std::string output;
  if (arrow == std::string::npos) {  // NumPy's implicit output: letters seen once, sorted
    for (const auto& [c, n] : counts) {
      if (n == 1) output.push_back(c);
    }
  } else {
    output = spec.substr(arrow + 2);
    for (char c : output) {
      TF_CHECK(is_label(c) && counts.count(c), InvalidArgument, "einsum: output letter '", c,
               "' does not appear in an input");
      TF_CHECK(std::count(output.begin(), output.end(), c) == 1, InvalidArgument,
               "einsum: output letter '", c, "' appears twice");
    }
  }
  auto needed_after = [&](size_t i) {  // letters used by the output or operands after i
    std::string s = output;
    for (size_t j = i + 1; j < inputs.size(); ++j) s += inputs[j];
    return s;
  };
  Term acc = prepare(operands[0], inputs[0], needed_after(0));
  for (size_t i = 1; i < inputs.size(); ++i) {
    const std::string later = needed_after(i);
    acc = contract(acc, prepare(operands[i], inputs[i], later + acc.letters), later);
  }
  return permuted_to(acc, output);
}

}  // namespace tenflowers
