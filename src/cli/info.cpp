#include <cstdio>
#include <filesystem>
#include <ostream>

#include "bdl/cli/commands.h"
#include "bdl/core/threads.h"
#include "bdl/io/model_file.h"
#include "bdl/kernels/backend.h"
#include "bdl/models/zoo.h"
#include "bdl/nn/graph.h"
#include "bdl/nn/module.h"
#include "bdl/nn/sequential.h"
#include "cli/load.h"

namespace bdl::cli {
namespace {

void print_row(nn::Module& m, const std::string& path, const Shape& in, const Shape& shape,
               double flops, std::ostream& out);

// One row per layer; Sequential containers down to depth 2 are opened (a ResNet
// stage shows its blocks), and a model that is one Graph (an imported ONNX
// model) shows its nodes; other containers are one row.
void print_rows(nn::Module& m, const std::string& path, Shape& shape, int depth,
                std::ostream& out) {
  auto* graph = dynamic_cast<nn::Graph*>(&m);
  if (graph != nullptr && depth == 0 && graph->arity() == 1) {
    std::vector<Shape> shapes(graph->node_count());
    for (size_t i = 0; i < graph->node_count(); ++i) {
      const auto node = static_cast<nn::Graph::Node>(i);
      nn::Module* mod = graph->module(node);
      if (mod == nullptr) {
        shapes[i] = shape;
        continue;
      }
      std::vector<Shape> in;
      for (auto f : graph->inputs_of(node)) in.push_back(shapes[static_cast<size_t>(f)]);
      auto* multi = dynamic_cast<nn::MultiInputModule*>(mod);
      shapes[i] = multi ? multi->output_shape_many(in) : mod->output_shape(in.at(0));
      const std::string name = mod->name().empty() ? std::to_string(i) : mod->name();
      print_row(*mod, name, in.at(0), shapes[i], multi ? 0.0 : mod->flops(in.at(0)), out);
    }
    shape = shapes.at(static_cast<size_t>(graph->output_node()));
    return;
  }
  auto* seq = dynamic_cast<nn::Sequential*>(&m);
  if (seq != nullptr && depth < 2) {
    auto kids = seq->children();
    for (size_t i = 0; i < kids.size(); ++i) {
      const std::string name = kids[i]->name().empty() ? std::to_string(i) : kids[i]->name();
      print_rows(*kids[i], path.empty() ? name : path + "." + name, shape, depth + 1, out);
    }
    return;
  }
  const double flops = m.flops(shape);
  const Shape in = shape;
  shape = m.output_shape(shape);
  print_row(m, path, in, shape, flops, out);
}

void print_row(nn::Module& m, const std::string& path, const Shape& /*in*/, const Shape& shape,
               double flops, std::ostream& out) {
  std::string what = m.describe();
  if (what.size() > 44) what = what.substr(0, 41) + "...";
  char line[256];
  std::snprintf(line, sizeof line, "  %-22s %-44s %-20s %11lld %9.1f\n", path.c_str(), what.c_str(),
                shape_str(shape).c_str(), static_cast<long long>(parameter_count(m)), flops / 1e6);
  out << line;
}

}  // namespace

int run_info(const InfoArgs& args, std::ostream& out) {
  set_num_threads(args.threads);
  out << "bdl " << BDL_VERSION << "\n"
      << "kernels: " << kernels::backend_version() << ", ISA " << kernels::backend_isa() << "\n"
      << "threads: " << num_threads() << "\n";
  if (args.model.empty()) return 0;
  std::unique_ptr<nn::Module> model;
  std::string name, description;
  Shape shape;
  if (std::filesystem::is_regular_file(args.model)) {
    io::LoadedModel loaded = load_model_file(args.model);
    model = std::move(loaded.model);
    name = args.model;
    description = loaded.info.description.empty() ? "a saved model" : loaded.info.description;
    if (loaded.is_checkpoint) description += " (checkpoint)";
    shape = loaded.info.input_shape;
    BDL_CHECK(!shape.empty(), args.model,
              ": the file does not record the input shape, so no layer table can be computed");
  } else {
    const auto& info = models::find(args.model);  // lists the zoo when unknown
    model = info.make(info.default_classes);
    name = info.name;
    description = info.description;
    shape = info.sample;
  }
  if (args.image_size) {
    BDL_CHECK(shape.size() == 3, "--image-size: model ", args.model, " does not take images");
    BDL_CHECK(*args.image_size >= 8 && *args.image_size <= 4096,
              "--image-size: must be between 8 and 4096, got ", *args.image_size);
    shape[1] = shape[2] = *args.image_size;
  }
  shape.insert(shape.begin(), 1);
  out << "\nmodel " << name << ": " << description << ", input " << shape_str(shape) << "\n";
  char header[256];
  std::snprintf(header, sizeof header, "  %-22s %-44s %-20s %11s %9s\n", "layer", "type", "output",
                "parameters", "MFLOPs");
  out << header;
  const double total_flops = model->flops(shape);
  print_rows(*model, "", shape, 0, out);
  out << "  parameters: " << parameter_count(*model) << ", forward: " << total_flops / 1e9
      << " GFLOPs per sample (convolutions and matrix products, multiply-add = 2)\n";
  return 0;
}

}  // namespace bdl::cli
