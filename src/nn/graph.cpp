#include "bdl/nn/graph.h"

#include <algorithm>

#include "bdl/kernels/layout_ops.h"
#include "bdl/nn/activations.h"
#include "bdl/nn/batch_norm.h"
#include "bdl/nn/conv2d.h"

namespace bdl::nn {

void Graph::check_node(Node node, const char* what) const {
  BDL_CHECK(node >= 0 && static_cast<size_t>(node) < nodes_.size(), label(), ": ", what, " ", node,
            " is not a node of this graph (it has ", nodes_.size(), ")");
}

Graph::Node Graph::add_input(std::string name) {
  NodeData n;
  n.name = name.empty() ? detail::concat("input", inputs_.size()) : std::move(name);
  nodes_.push_back(std::move(n));
  inputs_.push_back(static_cast<Node>(nodes_.size() - 1));
  flags_stale_ = true;
  return inputs_.back();
}

Graph::Node Graph::add(std::unique_ptr<Module> module, const std::vector<Node>& from,
                       std::string name) {
  BDL_CHECK(module != nullptr, label(), ": null module");
  for (Node f : from) check_node(f, "input node");
  auto* multi = dynamic_cast<MultiInputModule*>(module.get());
  if (multi == nullptr) {
    BDL_CHECK(from.size() == 1, label(), ": ", module->label(), " takes one input, given ",
              from.size());
  } else {
    BDL_CHECK(!from.empty(), label(), ": ", module->label(), " given no inputs");
    BDL_CHECK(multi->arity() == 0 || multi->arity() == from.size(), label(), ": ", module->label(),
              " takes ", multi->arity(), " inputs, given ", from.size());
  }
  if (!name.empty()) module->set_name(std::move(name));
  NodeData n;
  n.module = std::move(module);
  n.multi = multi;
  n.from = from;
  n.name = n.module->name();
  nodes_.push_back(std::move(n));
  out_node_ = static_cast<Node>(nodes_.size() - 1);
  flags_stale_ = true;  // worked out once, at the next pass: adding stays constant time
  return out_node_;
}

void Graph::set_output(Node node) {
  check_node(node, "output");
  out_node_ = node;
  flags_stale_ = true;
}

std::string Graph::describe() const {
  return detail::concat("Graph(", inputs_.size(), " inputs, ", nodes_.size() - inputs_.size(),
                        " modules)");
}

std::vector<Module*> Graph::children() {
  std::vector<Module*> out;
  for (auto& n : nodes_) {
    if (n.module) out.push_back(n.module.get());
  }
  return out;
}

void Graph::set_needs_input_grad(bool needed) {
  needs_input_grad_ = needed;
  update_flags();
}

// A node's gradient is needed when it is an input whose gradient the graph must
// return, has parameters, or is fed by a node whose gradient is needed.
void Graph::update_flags() {
  flags_stale_ = false;
  for (auto& n : nodes_) n.uses = 0;
  for (auto& n : nodes_) {
    for (Node f : n.from) ++nodes_[static_cast<size_t>(f)].uses;
  }
  if (out_node_ >= 0) ++nodes_[static_cast<size_t>(out_node_)].uses;
  in_place_.assign(nodes_.size(), InPlace::none);
  for (size_t i = 0; i < nodes_.size(); ++i) {
    Module* m = nodes_[i].module.get();
    if (m != nullptr && !nodes_[i].multi && dynamic_cast<ReLU*>(m) != nullptr) {
      in_place_[i] = InPlace::relu;
    } else if (nodes_[i].multi && dynamic_cast<Add*>(m) != nullptr) {
      in_place_[i] = InPlace::add;
    }
  }
  plan_fusions();
  for (auto& n : nodes_) {
    if (!n.module) {
      n.needs_grad = needs_input_grad_;
      continue;
    }
    bool upstream = false;
    for (Node f : n.from) upstream = upstream || nodes_[static_cast<size_t>(f)].needs_grad;
    n.module->set_needs_input_grad(upstream);
    n.needs_grad = upstream || !n.module->parameters().empty();
  }
}

void Graph::plan_fusions() {
  const size_t count = nodes_.size();
  fusions_.assign(count, Fusion{});
  fused_into_.assign(count, -1);
  covered_by_.assign(count, -1);
  // The one node reading node i's output, when exactly one does and nothing
  // outside the graph does.
  std::vector<Node> reader(count, -1);
  for (size_t i = 0; i < count; ++i) {
    for (Node f : nodes_[i].from) reader[static_cast<size_t>(f)] = static_cast<Node>(i);
  }
  auto sole_reader = [&](size_t i) -> Node {
    const auto& n = nodes_[i];
    if (n.uses != 1 || n.kept || static_cast<Node>(i) == out_node_) return -1;
    return reader[i];
  };
  for (size_t c = 0; c < count; ++c) {
    auto* conv = dynamic_cast<Conv2d*>(nodes_[c].module.get());
    if (conv == nullptr || nodes_[c].multi != nullptr) continue;
    Fusion f;
    size_t last = c;
    Node next = sole_reader(last);
    if (next >= 0) {
      if (auto* bn = dynamic_cast<BatchNorm*>(nodes_[static_cast<size_t>(next)].module.get())) {
        f.bn = bn;
        f.rest.push_back(next);
        last = static_cast<size_t>(next);
        next = sole_reader(last);
      }
    }
    if (next >= 0) {
      const auto& a = nodes_[static_cast<size_t>(next)];
      if (dynamic_cast<Add*>(a.module.get()) != nullptr && a.from.size() == 2) {
        const Node other = a.from[0] == static_cast<Node>(last) ? a.from[1] : a.from[0];
        // The residual must be ready when the convolution runs: computed by a
        // node before it, or by a chain whose head is.
        const Node other_head = fused_into_[static_cast<size_t>(other)];
        if (other != static_cast<Node>(last) && static_cast<size_t>(other) < c &&
            (other_head < 0 || static_cast<size_t>(other_head) < c)) {
          f.residual = other;
          f.rest.push_back(next);
          last = static_cast<size_t>(next);
          next = sole_reader(last);
        }
      }
    }
    if (next >= 0 && dynamic_cast<ReLU*>(nodes_[static_cast<size_t>(next)].module.get())) {
      f.relu = true;
      f.rest.push_back(next);
    }
    if (f.rest.empty()) continue;
    f.conv = conv;
    for (Node r : f.rest) fused_into_[static_cast<size_t>(r)] = static_cast<Node>(c);
    fusions_[c] = std::move(f);
  }
}

bool Graph::forward_fused(size_t i) {
  const Fusion& f = fusions_[i];
  const Tensor& x = *outs_[static_cast<size_t>(nodes_[i].from[0])];
  const Tensor* residual = f.residual >= 0 ? outs_[static_cast<size_t>(f.residual)] : nullptr;
  size_t covered = f.rest.size();
  const Tensor* y = f.conv->forward_fused(x, f.bn, residual, f.relu);
  if (y == nullptr && f.bn != nullptr && f.rest.size() > 1) {
    // No kernel for the whole chain (the addition, typically): fold the
    // BatchNorm alone, and the nodes after it run as usual.
    y = f.conv->forward_fused(x, f.bn, nullptr, false);
    covered = 1;
  }
  if (y == nullptr) return false;
  outs_[i] = y;
  for (size_t k = 0; k < covered; ++k) {
    const auto r = static_cast<size_t>(f.rest[k]);
    outs_[r] = y;
    covered_by_[r] = static_cast<Node>(i);
    nodes_[r].module->release_output();  // what a training forward left
  }
  // What the covered nodes read from outside the chain.
  read_output(nodes_[i].from[0]);
  if (covered == f.rest.size() && f.residual >= 0) read_output(f.residual);
  return true;
}

Shape Graph::output_shape_many(std::span<const Shape> inputs) const {
  BDL_CHECK(out_node_ >= 0, label(), ": no output node");
  return node_shapes(inputs)[static_cast<size_t>(out_node_)];
}

double Graph::flops(const Shape& input) const {
  const auto shapes = node_shapes(std::span<const Shape>(&input, 1));
  double total = 0;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const auto& n = nodes_[i];
    if (n.module && !n.multi) total += n.module->flops(shapes[static_cast<size_t>(n.from[0])]);
  }
  return total;
}

std::vector<Shape> Graph::node_shapes(std::span<const Shape> inputs) const {
  BDL_CHECK(inputs.size() == inputs_.size(), label(), ": given ", inputs.size(),
            " inputs, the graph has ", inputs_.size());
  std::vector<Shape> shapes(nodes_.size());
  for (size_t i = 0; i < inputs_.size(); ++i) shapes[static_cast<size_t>(inputs_[i])] = inputs[i];
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const auto& n = nodes_[i];
    if (!n.module) continue;
    if (n.multi) {
      std::vector<Shape> in;
      for (Node f : n.from) in.push_back(shapes[static_cast<size_t>(f)]);
      shapes[i] = n.multi->output_shape_many(in);
    } else {
      shapes[i] = n.module->output_shape(shapes[static_cast<size_t>(n.from[0])]);
    }
  }
  return shapes;
}

const Tensor& Graph::node_output(Node node) const {
  check_node(node, "node_output");
  BDL_CHECK(outs_.size() == nodes_.size(), label(), ": node_output before forward");
  return *outs_[static_cast<size_t>(node)];
}

const Tensor& Graph::forward_many(Inputs inputs) {
  BDL_CHECK(out_node_ >= 0, label(), ": no output node");
  BDL_CHECK(inputs.size() == inputs_.size(), label(), ": given ", inputs.size(),
            " inputs, the graph has ", inputs_.size());
  if (flags_stale_ || fusions_.size() != nodes_.size()) update_flags();
  activations_released_ = false;
  outs_.assign(nodes_.size(), nullptr);
  for (size_t i = 0; i < inputs_.size(); ++i) outs_[static_cast<size_t>(inputs_[i])] = inputs[i];
  unread_.resize(nodes_.size());
  for (size_t i = 0; i < nodes_.size(); ++i) unread_[i] = nodes_[i].uses;
  std::fill(covered_by_.begin(), covered_by_.end(), -1);
  for (size_t i = 0; i < nodes_.size(); ++i) {
    auto& n = nodes_[i];
    if (!n.module) continue;
    if (inference_ && fusions_[i].conv != nullptr) {
      if (forward_fused(i)) continue;
    }
    if (covered_by_[i] >= 0) continue;
    if (n.multi) {
      args_.clear();
      for (Node f : n.from) args_.push_back(outs_[static_cast<size_t>(f)]);
      outs_[i] = overwrites_first_input(i)
                     ? &static_cast<Add*>(n.module.get())->forward_in_place(args_)
                     : &n.multi->forward_many(args_);
    } else if (overwrites_first_input(i)) {
      outs_[i] = &static_cast<ReLU*>(n.module.get())
                      ->forward_in_place(*outs_[static_cast<size_t>(n.from[0])]);
    } else {
      outs_[i] = &n.module->forward(*outs_[static_cast<size_t>(n.from[0])]);
    }
    if (inference_) {
      for (Node f : n.from) read_output(f);
    }
  }
  output_ = *outs_[static_cast<size_t>(out_node_)];
  return output_;
}

// A ReLU rectifies its input in place, an Add sums into its first input, where
// nothing else reads that input and its producer allows it
// (Module::output_may_be_overwritten).
bool Graph::overwrites_first_input(size_t i) const {
  return in_place_[i] != InPlace::none && first_input_overwritable(i);
}

bool Graph::first_input_overwritable(size_t i) const {
  const auto from = static_cast<size_t>(nodes_[i].from[0]);
  // The module holding the input: its producer, or the head of the fused chain
  // that computed it.
  const Module* producer = nodes_[holder(from)].module.get();
  return producer != nullptr && nodes_[from].uses == 1 && producer->output_may_be_overwritten() &&
         outs_[from] == &producer->output() && outs_[from]->is_dense_from_start();
}

void Graph::contribute(Node node, const Tensor& grad, Node by) {
  const auto i = static_cast<size_t>(node);
  if (!nodes_[i].needs_grad) {
    consumed(by);
  } else if (nodes_[i].uses == 1) {
    grads_[i] = &grad;  // read when node i runs its backward (or by whoever gets the graph's)
    feeder_[i] = by;
  } else if (grads_[i] == nullptr) {
    kernels::copy_into(accumulated_[i], grad);
    grads_[i] = &accumulated_[i];
    consumed(by);
  } else {
    kernels::add_into(accumulated_[i], grad, scratch_);
    consumed(by);
  }
}

// In inference: one reader of node f's output is done; after the last, the
// node releases it. The graph's output and kept outputs count as readers that
// never finish.
void Graph::read_output(Node f) {
  const auto j = static_cast<size_t>(f);
  if (--unread_[j] == 0 && nodes_[j].module && !nodes_[j].kept) {
    // A fused chain's output is its head's (the convolution's).
    nodes_[holder(j)].module->release_output();
  }
}

// In backward: every reader of node i's output (the nodes after it) and node i
// itself have run their backward, so nothing reads the output again before the
// next forward, and its memory serves the gradients still to come. The graph's
// output and kept outputs stay readable.
void Graph::release_activation(size_t i) {
  if (retain_activations_) return;
  const auto& n = nodes_[i];
  if (n.module && !n.kept && static_cast<Node>(i) != out_node_) n.module->release_output();
}

void Graph::keep_output(Node node) {
  check_node(node, "keep_output");
  nodes_[static_cast<size_t>(node)].kept = true;
  flags_stale_ = true;  // a kept output is no longer fused away
}

void Graph::consumed(Node by) {
  if (by < 0) return;
  const auto j = static_cast<size_t>(by);
  if (--unread_[j] == 0) nodes_[j].module->release_grad_input();
}

const std::vector<Tensor>& Graph::backward_many(Inputs inputs, const Tensor& grad_output) {
  BDL_CHECK(outs_.size() == nodes_.size(), label(), ": backward before forward");
  BDL_CHECK(!activations_released_, label(),
            ": backward again after one forward; the first backward released the "
            "activations it read (run forward before each backward)");
  check_grad_output(grad_output, outs_[static_cast<size_t>(out_node_)]->shape());
  grads_.assign(nodes_.size(), nullptr);
  accumulated_.resize(nodes_.size());
  feeder_.assign(nodes_.size(), -1);
  unread_.assign(nodes_.size(), 0);
  for (size_t i = 0; i < nodes_.size(); ++i) unread_[i] = static_cast<int>(nodes_[i].from.size());
  // The output's gradient arrives from outside. If the output needs none, no
  // node before it has parameters or a wanted input gradient: nothing runs.
  contribute(out_node_, grad_output, -1);
  for (size_t i = nodes_.size(); i-- > 0;) {
    auto& n = nodes_[i];
    if (!n.module) continue;
    if (grads_[i] == nullptr) {
      release_activation(i);
      continue;
    }
    const auto self = static_cast<Node>(i);
    if (n.multi) {
      args_.clear();
      for (Node f : n.from) args_.push_back(outs_[static_cast<size_t>(f)]);
      const auto& g = n.multi->backward_many(args_, *grads_[i]);
      for (size_t k = 0; k < n.from.size(); ++k) contribute(n.from[k], g[k], self);
    } else {
      const Tensor& g = n.module->backward(*outs_[static_cast<size_t>(n.from[0])], *grads_[i]);
      contribute(n.from[0], g, self);
    }
    // Node i's gradient is read: its memory can serve the gradients to come.
    if (n.uses == 1) {
      consumed(feeder_[i]);
    } else {
      accumulated_[i].recycle();
    }
    release_activation(i);
  }
  activations_released_ = !retain_activations_;
  grad_inputs_.resize(inputs_.size());
  for (size_t k = 0; k < inputs_.size(); ++k) {
    const auto i = static_cast<size_t>(inputs_[k]);
    if (!needs_input_grad_) {
      grad_inputs_[k] = Tensor();
    } else if (grads_[i] != nullptr) {
      grad_inputs_[k] = *grads_[i];
    } else {
      // An input that does not lead to the output: its gradient is zero.
      grad_inputs_[k] = Tensor::zeros(inputs[k]->shape());
    }
  }
  return grad_inputs_;
}

void Graph::release_output() {
  output_.recycle();
  for (auto& n : nodes_) {
    if (n.module) n.module->release_output();
  }
}

void Graph::release_grad_input() {
  MultiInputModule::release_grad_input();
  for (Tensor& t : accumulated_) t.recycle();
  for (auto& n : nodes_) {
    if (n.module) n.module->release_grad_input();
  }
}

// Nodes in order: "from" lists each module node's inputs (inputs of the graph have
// none and no child), "from_counts" how many per node.
GraphWiring Graph::options() const {
  GraphWiring w;
  for (const auto& n : nodes_) {
    w.is_input.push_back(n.module == nullptr);
    w.from_counts.push_back(static_cast<int64_t>(n.from.size()));
    for (Node f : n.from) w.from.push_back(f);
    w.node_names.push_back(n.module ? n.module->name() : n.name);
  }
  w.output = out_node_;
  return w;
}

std::unique_ptr<Module> Graph::create(const Attributes& a, Children children) {
  const GraphWiring w = read_fields<GraphWiring>(a);
  const auto& is_input = w.is_input;
  const auto& counts = w.from_counts;
  const auto& from = w.from;
  const auto& names = w.node_names;
  BDL_CHECK(counts.size() == is_input.size() && names.size() == is_input.size(), a.owner(),
            ": is_input, from_counts and node_names differ in length");
  auto graph = std::make_unique<Graph>();
  size_t next_from = 0, next_child = 0;
  for (size_t i = 0; i < is_input.size(); ++i) {
    if (is_input[i] != 0) {
      graph->add_input(names[i]);
      continue;
    }
    BDL_CHECK(counts[i] >= 0 && next_from + static_cast<size_t>(counts[i]) <= from.size(),
              a.owner(), ": node ", i, " lists more inputs than 'from' holds");
    BDL_CHECK(next_child < children.size(), a.owner(), ": node ", i, " has no module");
    std::vector<Node> inputs;
    for (int64_t k = 0; k < counts[i]; ++k) {
      const int64_t f = from[next_from++];
      BDL_CHECK(f >= 0 && f < static_cast<int64_t>(i), a.owner(), ": node ", i,
                " takes input from node ", f, ", which does not come before it");
      inputs.push_back(static_cast<Node>(f));
    }
    graph->add(std::move(children[next_child++]), inputs, names[i]);
  }
  BDL_CHECK(next_child == children.size(), a.owner(), ": ", children.size() - next_child,
            " modules are not nodes of the graph");
  const int64_t output = w.output;
  BDL_CHECK(output >= 0 && output < static_cast<int64_t>(is_input.size()), a.owner(),
            ": output node ", output, " is not a node");
  graph->set_output(static_cast<Node>(output));
  return graph;
}

const RegisterLayers<Graph> kRegistered;

}  // namespace bdl::nn
