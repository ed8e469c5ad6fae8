#include "bdl/job/summary.h"

#include <cstdio>

#include "bdl/nn/graph.h"
#include "bdl/nn/sequential.h"

namespace bdl::job {
namespace {

// The nodes of a graph of one input, each a row.
void graph_rows(nn::Graph& graph, Shape& shape, std::vector<LayerRow>& out) {
  std::vector<Shape> shapes(graph.node_count());
  for (size_t i = 0; i < graph.node_count(); ++i) {
    const auto node = static_cast<nn::Graph::Node>(i);
    nn::Module* mod = graph.module(node);
    if (mod == nullptr) {
      shapes[i] = shape;
      continue;
    }
    std::vector<Shape> in;
    for (auto f : graph.inputs_of(node)) in.push_back(shapes[static_cast<size_t>(f)]);
    auto* multi = dynamic_cast<nn::MultiInputModule*>(mod);
    shapes[i] = multi ? multi->output_shape_many(in) : mod->output_shape(in.at(0));
    out.push_back({mod->name().empty() ? std::to_string(i) : mod->name(), mod->describe(),
                   shapes[i], parameter_count(*mod), multi ? 0.0 : mod->flops(in.at(0))});
  }
  shape = shapes.at(static_cast<size_t>(graph.output_node()));
}

void rows(nn::Module& m, const std::string& path, Shape& shape, int depth,
          std::vector<LayerRow>& out) {
  auto* graph = dynamic_cast<nn::Graph*>(&m);
  if (graph != nullptr && depth == 0 && graph->arity() == 1) {
    graph_rows(*graph, shape, out);
    return;
  }
  auto* seq = dynamic_cast<nn::Sequential*>(&m);
  if (seq != nullptr && depth < 2) {
    auto kids = seq->children();
    for (size_t i = 0; i < kids.size(); ++i) {
      std::string child = path.empty() ? path : path + '.';
      child += kids[i]->name().empty() ? std::to_string(i) : kids[i]->name();
      rows(*kids[i], child, shape, depth + 1, out);
    }
    return;
  }
  const double flops = m.flops(shape);
  shape = m.output_shape(shape);
  out.push_back({path, m.describe(), shape, parameter_count(m), flops});
}

}  // namespace

int64_t parameter_count(nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.value->numel();
  return n;
}

std::vector<LayerRow> summary(nn::Module& model, const Shape& input) {
  std::vector<LayerRow> out;
  Shape shape = input;
  rows(model, "", shape, 0, out);
  return out;
}

std::string format_summary(nn::Module& model, const Shape& input) {
  char line[256];
  std::snprintf(line, sizeof line, "  %-22s %-44s %-20s %11s %9s\n", "layer", "type", "output",
                "parameters", "MFLOPs");
  std::string text = line;
  for (const LayerRow& r : summary(model, input)) {
    std::string what = r.description;
    if (what.size() > 44) what = what.substr(0, 41) + "...";
    std::snprintf(line, sizeof line, "  %-22s %-44s %-20s %11lld %9.1f\n", r.path.c_str(),
                  what.c_str(), shape_str(r.output).c_str(), static_cast<long long>(r.parameters),
                  r.flops / 1e6);
    text += line;
  }
  std::snprintf(line, sizeof line,
                "  parameters: %lld, forward: %g GFLOPs per sample (convolutions and matrix "
                "products, multiply-add = 2)\n",
                static_cast<long long>(parameter_count(model)), model.flops(input) / 1e9);
  return text + line;
}

}  // namespace bdl::job
