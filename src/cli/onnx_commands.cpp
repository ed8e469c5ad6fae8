// bdl import (ONNX or Keras -> bdl) and bdl export (bdl -> ONNX).
#include <ostream>

#include "bdl/cli/commands.h"
#include "bdl/io/model_file.h"
#include "bdl/job/model_source.h"
#include "bdl/job/summary.h"
#include "bdl/onnx/export.h"

namespace bdl::cli {

namespace {
bool keras_file(const std::string& path) {
  auto ends = [&](const std::string& s) {
    return path.size() >= s.size() && path.compare(path.size() - s.size(), s.size(), s) == 0;
  };
  return ends(".keras") || ends(".h5");
}
}  // namespace

int run_import(const ImportArgs& a, std::ostream& out) {
  validate(a);
  if (keras_file(a.input)) {
    const job::Model model = job::import_keras(a.input);
    io::save_model(*model.module, a.output, model.metadata());
    out << "import: " << a.input << " (" << model.description
        << "): " << job::parameter_count(*model.module) << " parameters, input [N, ";
    for (size_t i = 0; i < model.sample_shape.size(); ++i) {
      out << (i ? ", " : "") << model.sample_shape[i];
    }
    out << "] as Keras takes it -> " << a.output << "\n";
    return 0;
  }
  const job::Model model = job::import_onnx(a.input);
  io::save_model(*model.module, a.output, model.metadata());
  out << "import: " << a.input << " (" << model.description
      << "): " << job::parameter_count(*model.module) << " parameters, inputs";
  for (size_t i = 0; i < model.onnx_inputs.size(); ++i) {
    out << " " << model.onnx_inputs[i] << " " << shape_str(model.onnx_input_shapes[i]);
  }
  out << " -> " << a.output << "\n";
  const auto& outputs = model.onnx_outputs;
  if (outputs.size() > 1) {
    out << "import: note: the model has " << outputs.size() << " outputs; bdl's model"
        << " computes all of them and returns the first, '" << outputs[0] << "'\n";
  }
  return 0;
}

int run_export(const ExportArgs& a, std::ostream& out) {
  validate(a);
  job::Model model = job::load_model(a.model);
  onnx::ExportOptions options;
  options.input_shape = a.input_shape.empty() ? model.sample_shape : a.input_shape;
  BDL_CHECK(!options.input_shape.empty(), a.model,
            ": the file does not record its input shape; give --input-shape C,H,W");
  model.module->eval();
  onnx::export_model(*model.module, a.output, options);
  out << "export: " << a.model << " -> " << a.output << " (ONNX opset " << onnx::kExportOpset
      << ", input [N, ";
  for (size_t i = 0; i < options.input_shape.size(); ++i) {
    out << (i ? ", " : "") << options.input_shape[i];
  }
  out << "], " << job::parameter_count(*model.module) << " parameters)\n";
  return 0;
}

}  // namespace bdl::cli
