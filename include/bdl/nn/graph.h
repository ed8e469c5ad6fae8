#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bdl/nn/multi_input.h"

namespace bdl::nn {

class ReLU;
class Conv2d;
class BatchNorm;

// A directed acyclic graph of modules (BigDL's Graph, Keras' functional model):
// nodes are the graph's inputs and modules fed by earlier nodes, so the order
// nodes are added in is a topological order. Forward runs the nodes in that
// order; backward runs them in reverse and sums the gradients of a node whose
// output feeds several others (fan-in of gradients). A node that does not lead
// to the output gets no gradient.
//
//   Graph g;
//   auto x = g.add_input();
//   auto c = g.add(std::make_unique<Conv2d>(...), {x});
//   auto r = g.add(std::make_unique<Add>(), {c, x});
//   g.set_output(r);
// A graph's wiring as a model file stores it (the modules are its children):
// nodes in order, whether each is a graph input, how many inputs each module
// node takes and from which nodes, their names, and the output node.
struct GraphWiring {
  std::vector<int64_t> is_input = {}, from_counts = {}, from = {};
  std::vector<std::string> node_names = {};
  int64_t output = -1;
  static void fields(auto& o, auto& field) {
    field("is_input", o.is_input);
    field("from_counts", o.from_counts);
    field("from", o.from);
    field("node_names", o.node_names);
    field("output", o.output);
  }
};

class Graph : public Layer<Graph, MultiInputModule> {
 public:
  static constexpr std::string_view kType = "Graph";
  static std::unique_ptr<Module> create(const Attributes& a, Children children);
  GraphWiring options() const;
  using Node = int;

  Node add_input(std::string name = "");
  // A module fed by the given nodes: one for a single-input module, one or more
  // for a MultiInputModule. Becomes the output until set_output() says otherwise.
  Node add(std::unique_ptr<Module> module, const std::vector<Node>& from, std::string name = "");
  void set_output(Node node);
  Node output_node() const { return out_node_; }

  const Tensor& forward_many(Inputs inputs) override;
  const std::vector<Tensor>& backward_many(Inputs inputs, const Tensor& grad_output) override;
  Shape output_shape_many(std::span<const Shape> inputs) const override;
  double flops(const Shape& input) const override;
  size_t arity() const override { return inputs_.size(); }
  std::string describe() const override;
  std::vector<Module*> children() override;
  void set_needs_input_grad(bool needed) override;
  void release_grad_input() override;
  void release_output() override;

  size_t node_count() const { return nodes_.size(); }
  Module* module(Node node) { return nodes_.at(static_cast<size_t>(node)).module.get(); }
  const std::vector<Node>& inputs_of(Node node) const {
    return nodes_.at(static_cast<size_t>(node)).from;
  }
  const std::string& node_name(Node node) const {
    return nodes_.at(static_cast<size_t>(node)).name;
  }
  // Any node's output from the last forward (forward runs every node): a graph
  // with several results, such as an imported ONNX model, reads the others here.
  // In inference a graph releases each node's output once the nodes that read
  // it have run (Module::release_output); node_output() of a node kept here
  // stays readable (an imported model's further results).
  const Tensor& node_output(Node node) const;
  void keep_output(Node node);

 private:
  struct NodeData {
    std::unique_ptr<Module> module;  // null for a graph input
    MultiInputModule* multi = nullptr;
    std::vector<Node> from;
    std::string name;
    int uses = 0;             // edges out of this node, the graph output counting as one
    bool needs_grad = false;  // whether anything upstream wants this node's gradient
    bool kept = false;        // its output is read from outside (keep_output)
  };
  void update_flags();
  // The output shape of every node for the given input shapes.
  std::vector<Shape> node_shapes(std::span<const Shape> inputs) const;
  void check_node(Node node, const char* what) const;
  // Hands `grad` (computed by node `by`, or from outside when by < 0) to `node`.
  void contribute(Node node, const Tensor& grad, Node by);
  // Where a ReLU or an Add may overwrite its first input (see
  // Module::output_may_be_overwritten): ResNet keeps a third fewer activations.
  bool overwrites_first_input(size_t node) const;
  bool first_input_overwritable(size_t node) const;
  // One gradient node `by` returned has been read: when none is left unread, the
  // node releases them (Module::release_grad_input).
  void consumed(Node by);
  void read_output(Node f);
  // Drops node i's output once backward no longer reads it.
  void release_activation(size_t i);

  // In inference, a Conv2d node runs what follows it in one pass where only that
  // reads its output: a BatchNorm (folded), an Add whose other input is already
  // computed (the residual), a ReLU (Conv2d::forward_fused). The chain's other
  // nodes are then skipped and their outputs are the convolution's.
  struct Fusion {
    Conv2d* conv = nullptr;  // null: node heads no chain
    BatchNorm* bn = nullptr;
    Node residual = -1;  // the Add's other input
    bool relu = false;
    std::vector<Node> rest;  // the chain's nodes after the convolution, in order
  };
  void plan_fusions();
  // Runs the chain node i heads in one pass, or as much of it as oneDNN fuses
  // (the BatchNorm alone); false where none of it.
  bool forward_fused(size_t i);
  // The node whose module holds node i's output in this forward: the head of
  // the chain that computed it, or itself.
  size_t holder(size_t i) const {
    return covered_by_[i] >= 0 ? static_cast<size_t>(covered_by_[i]) : i;
  }

  std::vector<NodeData> nodes_;
  std::vector<Fusion> fusions_;   // per node
  std::vector<Node> fused_into_;  // per node: the head of the chain it belongs to, or -1
  std::vector<Node> covered_by_;  // per node: the head that computed it in this forward, or -1
  std::vector<Node> inputs_;
  Node out_node_ = -1;
  bool flags_stale_ = false;  // nodes added since update_flags()
  // Backward released the nodes' outputs: another backward needs a forward first.
  bool activations_released_ = false;
  // Per pass: each node's output and gradient (a module's own buffers, an input,
  // or an accumulation buffer where gradients fan in).
  std::vector<const Tensor*> outs_, grads_;
  std::vector<Tensor> accumulated_;
  enum class InPlace : uint8_t { none, relu, add };
  std::vector<InPlace> in_place_;  // per node: a ReLU or an Add, which may work in place
  // Per node: in backward, the gradients it returned that are not yet read; in
  // an inference forward, the readers of its output still to run.
  std::vector<int> unread_;
  std::vector<Node> feeder_;  // per node of one use: the node its gradient came from
  std::vector<const Tensor*> args_;
  Tensor scratch_;
};

}  // namespace bdl::nn
