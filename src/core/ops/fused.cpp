// fused_elementwise: its program format, shape and dtype rule, and its gradient and forward-mode
// rules, which replay the program with the steps' own ops and chain the steps' own rules (so
// higher orders come free, as for any composite).
#include <algorithm>
#include <string>

#include "src/core/ops/register.hpp"
#include "tenflowers/core/dispatch.hpp"
#include "tenflowers/core/error.hpp"
#include "tenflowers/core/fused_elementwise.hpp"
#include "tenflowers/core/ops.hpp"

namespace tenflowers {
namespace {

constexpr std::string_view kFusible[] = {
    // one input
    "neg", "abs", "sign", "square", "relu", "floor", "ceil", "round", "exp", "expm1", "log",
    "log1p", "sqrt", "rsqrt", "reciprocal", "sin", "cos", "tan", "tanh", "sigmoid", "erf", "silu",
    // two inputs
    "add", "sub", "mul", "div", "pow", "maximum", "minimum", "atan2", "relu_grad"};

const Attrs kNoAttrs{};

std::vector<std::string_view> split_names(std::string_view list) {
  std::vector<std::string_view> names;
  while (!list.empty()) {
    const size_t comma = list.find(',');
    names.push_back(list.substr(0, comma));
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return names;
}

// values[0..n) are the inputs; each step appends its result.
std::vector<Tensor> replay(const FusedProgram& program, std::span<const Tensor> inputs) {
  std::vector<Tensor> values(inputs.begin(), inputs.end());
  values.reserve(inputs.size() + program.steps.size());
  for (const FusedStep& step : program.steps) {
    Tensor result = step.rhs < 0 ? dispatch1(*step.op, {values[step.lhs]})
                                 : dispatch1(*step.op, {values[step.lhs], values[step.rhs]});
    values.push_back(std::move(result));
  }
  return values;
}

std::vector<Tensor> operands_of(const FusedStep& step, const std::vector<Tensor>& values) {
  if (step.rhs < 0) return {values[step.lhs]};
  return {values[step.lhs], values[step.rhs]};
}

void infer_fused(InferContext& ctx) {
  TF_CHECK(!ctx.inputs.empty(), InvalidArgument, "fused_elementwise needs at least one input");
  parse_fused_program(ctx.attrs, ctx.inputs.size());
  const DType dtype = ctx.inputs[0].dtype();
  TF_CHECK(is_floating(dtype), DTypeError, "fused_elementwise computes in floating dtypes, got ",
           dtype_name(dtype));
  Dims shape = ctx.inputs[0].shape();
  for (size_t i = 1; i < ctx.inputs.size(); ++i) {
    TF_CHECK(ctx.inputs[i].dtype() == dtype, DTypeError,
             "the inputs of fused_elementwise share one dtype: input 0 is ", dtype_name(dtype),
             ", input ", i, " is ", dtype_name(ctx.inputs[i].dtype()));
    shape = broadcast_shapes(shape, ctx.inputs[i].shape());
  }
  ctx.add_output(dtype, std::move(shape));
}

std::vector<Tensor> fused_grad(const GradContext& c) {
  const FusedProgram program = parse_fused_program(c.attrs, c.inputs.size());
  const std::vector<Tensor> values = replay(program, c.inputs);
  const size_t n = c.inputs.size();
  // Which values lead to an input whose gradient is wanted.
  std::vector<bool> wanted(c.needs_input_grad.begin(), c.needs_input_grad.end());
  for (const FusedStep& step : program.steps) {
    wanted.push_back(wanted[step.lhs] || (step.rhs >= 0 && wanted[step.rhs]));
  }
  std::vector<Tensor> grads(values.size());
  grads.back() = c.output_grads[0];
  for (size_t j = program.steps.size(); j-- > 0;) {
    const size_t v = n + j;
    if (!grads[v].defined() || !wanted[v]) continue;
    const FusedStep& step = program.steps[j];
    const std::vector<Tensor> operands = operands_of(step, values);
    std::vector<int64_t> indices{step.lhs};
    if (step.rhs >= 0) indices.push_back(step.rhs);
    std::vector<bool> needs;
    for (int64_t index : indices) needs.push_back(wanted[index]);
    const Tensor outputs[] = {values[v]};
    const Tensor output_grads[] = {grads[v]};
    const GradContext ctx{*step.op, operands, outputs, output_grads, kNoAttrs, needs};
    const std::vector<Tensor> step_grads = step.op->grad(ctx);
    for (size_t k = 0; k < indices.size(); ++k) {
      if (!needs[k] || !step_grads[k].defined()) continue;
      Tensor& into = grads[indices[k]];
      into = into.defined() ? into + step_grads[k] : step_grads[k];
    }
  }
  grads.resize(n);
  for (size_t i = 0; i < n; ++i) {
    if (!c.needs_input_grad[i]) grads[i] = Tensor();
  }
  return grads;
}

std::vector<Tensor> fused_jvp(const JvpContext& c) {
  const FusedProgram program = parse_fused_program(c.attrs, c.inputs.size());
  const std::vector<Tensor> values = replay(program, c.inputs);
  std::vector<Tensor> tangents(c.input_tangents.begin(), c.input_tangents.end());
  for (size_t j = 0; j < program.steps.size(); ++j) {
    const FusedStep& step = program.steps[j];
    std::vector<Tensor> operand_tangents{tangents[step.lhs]};
    if (step.rhs >= 0) operand_tangents.push_back(tangents[step.rhs]);
    const bool any = std::any_of(operand_tangents.begin(), operand_tangents.end(),
                                 [](const Tensor& t) { return t.defined(); });
    if (!any) {
      tangents.emplace_back();
      continue;
    }
    const std::vector<Tensor> operands = operands_of(step, values);
    const Tensor outputs[] = {values[c.inputs.size() + j]};
    const JvpContext ctx{*step.op, operands, outputs, operand_tangents, kNoAttrs};
    tangents.push_back(step.op->jvp(ctx).at(0));
  }
  return {tangents.back()};
}

}  // namespace

std::span<const std::string_view> fusible_elementwise_ops() {
  return kFusible;
}

bool is_fusible_elementwise(const OpDef& op) {
  return std::find(std::begin(kFusible), std::end(kFusible), op.name) != std::end(kFusible);
}

FusedProgram parse_fused_program(const Attrs& attrs, size_t num_inputs) {
  TF_CHECK(num_inputs >= 1 && num_inputs <= kMaxFusedInputs, InvalidArgument,
           "a fused program takes 1 to ", kMaxFusedInputs, " inputs, got ", num_inputs);
  const std::vector<std::string_view> names = split_names(attrs.get_string("ops"));
  const std::vector<int64_t>& operands = attrs.get_ints("operands");
  TF_CHECK(!names.empty() && names.size() <= kMaxFusedSteps, InvalidArgument,
           "a fused program has 1 to ", kMaxFusedSteps, " steps, got ", names.size());
  TF_CHECK(operands.size() == 2 * names.size(), InvalidArgument,
           "a fused program lists two operands per step: ", names.size(), " steps need ",
           2 * names.size(), " operands, got ", operands.size());
  FusedProgram program;
  program.num_inputs = num_inputs;
  std::vector<int> uses(num_inputs + names.size(), 0);
  for (size_t j = 0; j < names.size(); ++j) {
    const OpDef* op = registry().find(names[j]);
    TF_CHECK(op && is_fusible_elementwise(*op), InvalidArgument, "step ", j, ": '", names[j],
             "' is not an op a fused program may contain");
    const auto available = static_cast<int64_t>(num_inputs + j);
    const int64_t lhs = operands[2 * j];
    const int64_t rhs = operands[2 * j + 1];
    TF_CHECK(lhs >= 0 && lhs < available, InvalidArgument, "step ", j, " (", names[j],
             "): operand ", lhs, " is not an input or an earlier step (0..", available - 1, ")");
    if (op->num_inputs == 1) {
      TF_CHECK(rhs == -1, InvalidArgument, "step ", j, " (", names[j],
               ") takes one operand; its second must be -1, got ", rhs);
    } else {
      TF_CHECK(rhs >= 0 && rhs < available, InvalidArgument, "step ", j, " (", names[j],
               "): operand ", rhs, " is not an input or an earlier step (0..", available - 1, ")");
      ++uses[static_cast<size_t>(rhs)];
    }
    ++uses[static_cast<size_t>(lhs)];
    program.steps.push_back({op, lhs, rhs});
  }
  for (size_t v = 0; v + 1 < uses.size(); ++v) {
    TF_CHECK(uses[v] > 0, InvalidArgument, v < num_inputs ? "input " : "the result of step ",
             v < num_inputs ? v : v - num_inputs, " is never used by the fused program");
  }
  return program;
}

Attrs fused_program_attrs(const FusedProgram& program) {
  std::string names;
  std::vector<int64_t> operands;
  for (const FusedStep& step : program.steps) {
    if (!names.empty()) names += ',';
    names += step.op->name;
    operands.push_back(step.lhs);
    operands.push_back(step.rhs);
  }
  return Attrs{{"ops", names}, {"operands", operands}};
}

void register_fused_ops(OpRegistry& r) {
  r.def("fused_elementwise").variadic().infer(infer_fused).grad(fused_grad).jvp(fused_jvp);
}

}  // namespace tenflowers
