#include "tenflowers/graph/session.hpp"

#include "tenflowers/core/dispatch.hpp"
#include "tenflowers/core/error.hpp"
#include "tenflowers/core/random.hpp"

namespace tenflowers::graph {
namespace {

// A random op traced without a seed drew its stream from the global generator; each run draws
// anew, reserving as many counters as the eager call did.
Attrs fresh_stream(const Attrs& traced) {
  const RandomStream stream =
      next_random_stream(static_cast<uint64_t>(traced.get_int("stream_count")));
  Attrs attrs = traced;
  attrs.set("seed", static_cast<int64_t>(stream.seed));
  attrs.set("offset", static_cast<int64_t>(stream.offset));
  return attrs;
}

}  // namespace

Session::Session(Graph graph) : graph_(std::move(graph)), placeholders_(graph_.placeholders()) {
  TF_CHECK(!graph_.outputs().empty(), InvalidArgument,
           "the graph has no outputs; call set_outputs before making a Session");
  const auto& nodes = graph_.nodes();
  // The last node reading each node's values; graph outputs live to the end.
  std::vector<int32_t> last_use(nodes.size(), -1);
  for (size_t i = 0; i < nodes.size(); ++i) {
    for (ValueRef in : nodes[i].inputs)
      last_use[static_cast<size_t>(in.node)] = static_cast<int32_t>(i);
  }
  for (ValueRef out : graph_.outputs()) last_use[static_cast<size_t>(out.node)] = -1;
  release_after_.resize(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (last_use[i] >= 0)
      release_after_[static_cast<size_t>(last_use[i])].push_back(static_cast<int32_t>(i));
  }
}

std::vector<Tensor> Session::run(std::span<const Tensor> feeds) const {
  TF_CHECK(feeds.size() == placeholders_.size(), InvalidArgument, "the graph takes ",
           placeholders_.size(), " feed(s), got ", feeds.size());
  const auto& nodes = graph_.nodes();
  std::vector<std::vector<Tensor>> values(nodes.size());
  for (size_t i = 0; i < placeholders_.size(); ++i) {
    const Node& p = nodes[static_cast<size_t>(placeholders_[i])];
    const TensorMeta& m = p.outputs[0];
    const Tensor& feed = feeds[i];
    TF_CHECK(feed.defined() && !feed.is_meta(), InvalidArgument, "feed '", p.name,
             "' needs a tensor with data");
    TF_CHECK(feed.dtype() == m.dtype && feed.shape() == m.shape && feed.device() == m.device,
             InvalidArgument, "feed '", p.name, "' must be ", dtype_name(m.dtype), m.shape, " on ",
             m.device.str(), ", got ", dtype_name(feed.dtype()), feed.shape(), " on ",
             feed.device().str());
    values[static_cast<size_t>(placeholders_[i])] = {feed};
  }
  std::vector<Tensor> inputs;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const Node& n = nodes[i];
    if (n.kind == NodeKind::Constant) {
      values[i] = {n.value};
    } else if (n.kind == NodeKind::Op) {
      inputs.clear();
      for (ValueRef in : n.inputs) {
        inputs.push_back(values[static_cast<size_t>(in.node)][static_cast<size_t>(in.index)]);
      }
      values[i] = n.attrs.has("stream_count") ? dispatch(*n.op, inputs, fresh_stream(n.attrs))
                                              : dispatch(*n.op, inputs, n.attrs);
    }
    for (int32_t dead : release_after_[i]) values[static_cast<size_t>(dead)].clear();
  }
  std::vector<Tensor> outputs;
  for (ValueRef out : graph_.outputs()) {
    outputs.push_back(values[static_cast<size_t>(out.node)][static_cast<size_t>(out.index)]);
  }
  return outputs;
}

std::vector<Tensor> Session::run(const std::vector<std::pair<std::string, Tensor>>& feeds) const {
  std::vector<Tensor> ordered(placeholders_.size());
  for (const auto& [name, tensor] : feeds) {
    bool found = false;
    for (size_t i = 0; i < placeholders_.size(); ++i) {
      if (graph_.nodes()[static_cast<size_t>(placeholders_[i])].name != name) continue;
      TF_CHECK(!ordered[i].defined(), InvalidArgument, "feed '", name, "' is given twice");
      ordered[i] = tensor;
      found = true;
    }
    TF_CHECK(found, InvalidArgument, "the graph has no placeholder named '", name, "'");
  }
  for (size_t i = 0; i < placeholders_.size(); ++i) {
    TF_CHECK(ordered[i].defined(), InvalidArgument, "feed '",
             graph_.nodes()[static_cast<size_t>(placeholders_[i])].name, "' is missing");
  }
  return run(ordered);
}

}  // namespace tenflowers::graph
