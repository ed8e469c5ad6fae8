// Containers: their children's nodes in order, wired as the container wires them.
#include "bdl/nn/concat.h"
#include "bdl/nn/graph.h"
#include "bdl/nn/recurrent.h"
#include "bdl/nn/sequential.h"
#include "bdl/nn/time_distributed.h"
#include "onnx/export/emitter.h"

namespace bdl::onnx::exporting {
namespace {

std::string sequential(Emitter& e, nn::Sequential& seq, const Inputs& in) {
  std::string x = in.x();
  Shape s = in.shape();
  size_t i = 0;
  for (nn::Module* child : seq.children()) {
    const std::string path = child_path(in.path, *child, i++);
    x = e.emit(*child, {{x}, {s}, path});
    s = child->output_shape(s);
  }
  return x;
}

std::string graph(Emitter& e, nn::Graph& g, const Inputs& in) {
  std::vector<std::string> names(g.node_count());
  std::vector<Shape> shapes(g.node_count());
  size_t next_input = 0;
  for (size_t i = 0; i < g.node_count(); ++i) {
    const auto node = static_cast<nn::Graph::Node>(i);
    nn::Module* mod = g.module(node);
    if (mod == nullptr) {
      names[i] = in.names.at(next_input);
      shapes[i] = in.shapes.at(next_input++);
      continue;
    }
    std::vector<std::string> args;
    std::vector<Shape> arg_shapes;
    for (auto f : g.inputs_of(node)) {
      args.push_back(names[static_cast<size_t>(f)]);
      arg_shapes.push_back(shapes[static_cast<size_t>(f)]);
    }
    const std::string own = g.node_name(node).empty() ? std::to_string(i) : g.node_name(node);
    const std::string path = in.path.empty() ? own : in.path + "." + own;
    names[i] = e.emit(*mod, {args, arg_shapes, path});
    auto* multi = dynamic_cast<nn::MultiInputModule*>(mod);
    shapes[i] = multi ? multi->output_shape_many(arg_shapes) : mod->output_shape(arg_shapes[0]);
  }
  return names.at(static_cast<size_t>(g.output_node()));
}

std::string concat(Emitter& e, nn::Concat& c, const Inputs& in) {
  std::vector<std::string> branches;
  size_t i = 0;
  for (nn::Module* child : c.children()) {
    branches.push_back(e.emit(*child, {in.names, in.shapes, child_path(in.path, *child, i++)}));
  }
  std::string out;
  Emitter::attr(e.node("Concat", branches, in.path, &out), "axis", c.options().dim);
  return out;
}

// (N, T, ...) -> (N*T, ...) through the module -> (N, T, ...).
std::string time_distributed(Emitter& e, nn::TimeDistributed& m, const Inputs& in) {
  nn::Module& inner = *m.children().at(0);
  const Shape& s = in.shape();
  std::vector<int64_t> folded{-1};
  folded.insert(folded.end(), s.begin() + 2, s.end());
  const std::string flat = e.op("Reshape", {in.x(), e.ints(folded, in.path + ".fold")}, in.path);
  Shape inner_shape{s[0] * s[1]};
  inner_shape.insert(inner_shape.end(), s.begin() + 2, s.end());
  const std::string y = e.emit(inner, {{flat}, {inner_shape}, child_path(in.path, inner, 0)});
  const Shape out = inner.output_shape(inner_shape);
  std::vector<int64_t> unfolded{-1, s[1]};
  unfolded.insert(unfolded.end(), out.begin() + 1, out.end());
  return e.op("Reshape", {y, e.ints(unfolded, in.path + ".unfold")}, in.path);
}

}  // namespace

void add_container_exporters(ExporterTable& table) {
  add<nn::Sequential>(table, sequential);
  add<nn::Graph>(table, graph);
  add<nn::Concat>(table, concat);
  add<nn::TimeDistributed>(table, time_distributed);
}

}  // namespace bdl::onnx::exporting
