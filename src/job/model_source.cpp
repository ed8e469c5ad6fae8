#include "bdl/job/model_source.h"

#include <filesystem>

#include "bdl/keras/import.h"
#include "bdl/models/zoo.h"
#include "bdl/onnx/import.h"

namespace bdl::job {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Outputs per sample of a (batch, outputs) model; 0 for other output shapes.
int64_t outputs_of(nn::Module& m, const Shape& sample) {
  if (sample.empty()) return 0;
  Shape in = sample;
  in.insert(in.begin(), 1);
  const Shape out = m.output_shape(in);
  return out.size() == 2 ? out[1] : 0;
}

}  // namespace

Model import_onnx(const std::string& path) {
  onnx::ImportedModel imported = onnx::import_model(path);
  Model m;
  const auto& shapes = imported.input_shapes;
  if (shapes.size() == 1 && !shapes[0].empty()) {
    m.sample_shape.assign(shapes[0].begin() + 1, shapes[0].end());
  }
  m.description = "ONNX model" +
                  (imported.producer.empty() ? std::string() : " from " + imported.producer) +
                  ", opset " + std::to_string(imported.opset);
  // What the importer recognised and computes with bdl's native layers.
  std::string fused;
  for (const auto& [op, count] : imported.fused) {
    fused += (fused.empty() ? "" : ", ") + std::to_string(count) + " " + op;
  }
  if (!fused.empty()) m.description += "; fused to native layers: " + fused;
  if (!imported.unfused.empty()) {
    m.description += "; " + std::to_string(imported.unfused.size()) +
                     " recognised but left as exported (" + imported.unfused.front() + ")";
  }
  m.onnx_inputs = imported.input_names;
  m.onnx_outputs = imported.output_names;
  m.onnx_input_shapes = imported.input_shapes;
  m.module = std::move(imported.graph);
  m.name = path;
  m.from_file = true;
  m.outputs = outputs_of(*m.module, m.sample_shape);
  return m;
}

Model import_keras(const std::string& path) {
  keras::ImportedModel imported = keras::import_model(path);
  Model m;
  m.sample_shape = imported.input_shape;
  m.description = imported.format + " '" + imported.name + "'" +
                  (imported.keras_version.empty() ? "" : ", Keras " + imported.keras_version);
  m.module = std::move(imported.graph);
  m.name = path;
  m.from_file = true;
  m.outputs = outputs_of(*m.module, m.sample_shape);
  return m;
}

io::ModelMetadata Model::metadata() const {
  io::ModelMetadata meta{sample_shape, description, 0.f, 0.f};
  if (normalize) {
    meta.input_mean = normalize->mean;
    meta.input_std = normalize->std;
  }
  return meta;
}

bool is_model_file(const std::string& name) {
  return std::filesystem::is_regular_file(name) || ends_with(name, ".bdl") ||
         ends_with(name, ".onnx") || ends_with(name, ".keras") || ends_with(name, ".h5");
}

Model load_model(const std::string& path) {
  BDL_CHECK(!path.empty(), "a model file is required");
  if (!io::looks_like_native_model(path) && ends_with(path, ".onnx")) return import_onnx(path);
  if (!io::looks_like_native_model(path) && (ends_with(path, ".keras") || ends_with(path, ".h5"))) {
    return import_keras(path);
  }
  io::LoadedModel loaded = io::load_model(path);  // its error names the file and the format
  Model m;
  m.module = std::move(loaded.model);
  m.sample_shape = loaded.metadata.input_shape;
  m.description =
      loaded.metadata.description.empty() ? "a saved model" : loaded.metadata.description;
  if (loaded.is_checkpoint) m.description += " (checkpoint)";
  if (loaded.metadata.input_std > 0) {
    m.normalize = data::Normalize{loaded.metadata.input_mean, loaded.metadata.input_std};
  }
  m.name = path;
  m.from_file = true;
  m.outputs = outputs_of(*m.module, m.sample_shape);
  return m;
}

Model build_model(const ModelSpec& spec, int64_t data_classes) {
  if (spec.module) {
    BDL_CHECK(!spec.sample_shape.empty(),
              "model: give the input shape of one sample with a "
              "built module");
    Model m;
    m.module = spec.module;
    m.name = spec.module->type();
    m.description = spec.description.empty() ? spec.module->describe() : spec.description;
    m.sample_shape = spec.sample_shape;
    m.outputs = outputs_of(*m.module, m.sample_shape);
    return m;
  }
  if (is_model_file(spec.name)) {
    BDL_CHECK(!spec.image_size, "model: image_size applies to zoo models, not to the file ",
              spec.name);
    return load_model(spec.name);
  }
  const models::ZooEntry& entry = models::find(spec.name);  // lists the zoo when unknown
  Model m;
  m.name = entry.name;
  m.description = entry.description;
  m.sample_shape = entry.sample;
  m.vocabulary = entry.vocabulary;
  if (spec.image_size) {
    BDL_CHECK(entry.sample.size() == 3, "model ", entry.name, " does not take images");
    m.sample_shape[1] = m.sample_shape[2] = *spec.image_size;
  }
  const int64_t classes = spec.classes > 0   ? spec.classes
                          : data_classes > 0 ? data_classes
                                             : entry.default_classes;
  m.module = entry.make(classes);
  try {
    m.outputs = outputs_of(*m.module, m.sample_shape);
  } catch (const Error& e) {
    if (!spec.image_size) throw;
    fail(spec.image_size_name, ": model ", entry.name, " does not take ", *spec.image_size, "x",
         *spec.image_size, " images (", e.what(), ")");
  }
  return m;
}

}  // namespace bdl::job
