// bdl import (ONNX -> bdl) and bdl export (bdl -> ONNX), and the loader that lets
// predict, eval and info take either format.
#include <ostream>

#include "bdl/cli/commands.h"
#include "bdl/onnx/export.h"
#include "bdl/onnx/import.h"
#include "cli/load.h"

namespace bdl::cli {
namespace {

struct Imported {
  io::LoadedModel model;
  onnx::ImportedModel onnx;
};

Imported import_onnx(const std::string& path) {
  Imported out;
  out.onnx = onnx::import_model(path);
  const auto& shapes = out.onnx.input_shapes;
  if (shapes.size() == 1 && !shapes[0].empty()) {
    out.model.info.input_shape.assign(shapes[0].begin() + 1, shapes[0].end());
  }
  out.model.info.description =
      "ONNX model" + (out.onnx.producer.empty() ? std::string() : " from " + out.onnx.producer) +
      ", opset " + std::to_string(out.onnx.opset);
  out.model.model = std::move(out.onnx.graph);
  return out;
}

}  // namespace

int64_t parameter_count(nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.value->numel();
  return n;
}

io::LoadedModel load_model_file(const std::string& path) {
  if (io::looks_like_native_model(path)) return io::load_model(path);
  if (path.size() > 5 && path.substr(path.size() - 5) == ".onnx") {
    return import_onnx(path).model;
  }
  return io::load_model(path);  // its error names the file and the format it expects
}

int run_import(const ImportArgs& a, std::ostream& out) {
  BDL_CHECK(!a.output.empty(), "import: -o model.bdl is required");
  Imported m = import_onnx(a.input);
  const auto& graph = m.onnx;
  io::save_model(*m.model.model, a.output, m.model.info);
  out << "import: " << a.input << " (" << m.model.info.description
      << "): " << parameter_count(*m.model.model) << " parameters, inputs";
  for (size_t i = 0; i < graph.input_names.size(); ++i) {
    out << " " << graph.input_names[i] << " " << shape_str(graph.input_shapes[i]);
  }
  out << " -> " << a.output << "\n";
  if (graph.output_names.size() > 1) {
    out << "import: note: the model has " << graph.output_names.size() << " outputs; bdl's model"
        << " computes all of them and returns the first, '" << graph.output_names[0] << "'\n";
  }
  return 0;
}

int run_export(const ExportArgs& a, std::ostream& out) {
  BDL_CHECK(!a.output.empty(), "export: -o model.onnx is required");
  io::LoadedModel m = load_model_file(a.model);
  onnx::ExportOptions options;
  options.input_shape = a.input_shape.empty() ? m.info.input_shape : a.input_shape;
  BDL_CHECK(!options.input_shape.empty(), a.model,
            ": the file does not record its input shape; give --input-shape C,H,W");
  m.model->eval();
  onnx::export_model(*m.model, a.output, options);
  out << "export: " << a.model << " -> " << a.output << " (ONNX opset " << onnx::kExportOpset
      << ", input [N, ";
  for (size_t i = 0; i < options.input_shape.size(); ++i) {
    out << (i ? ", " : "") << options.input_shape[i];
  }
  out << "], " << parameter_count(*m.model) << " parameters)\n";
  return 0;
}

}  // namespace bdl::cli
