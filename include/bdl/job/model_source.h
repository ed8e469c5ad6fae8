#pragma once

// Where a job's model comes from: the zoo, a model file (bdl's format or ONNX),
// or a module built in C++ or Python.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bdl/data/dataset.h"
#include "bdl/io/model_file.h"
#include "bdl/nn/module.h"

namespace bdl::job {

struct ModelSpec {
  // A zoo name (lenet5, resnet18, ...) or a model file (.bdl, .onnx). Ignored
  // when `module` is set.
  std::string name = "lenet5";
  // A model built by the caller; trained in place.
  std::shared_ptr<nn::Module> module = {};
  // For `module`: one sample's input shape (required) and a description.
  Shape sample_shape = {};
  std::string description = {};
  // Zoo models: outputs (0: the zoo's default, or the data's class count) and,
  // for image models, another input height and width.
  int64_t classes = 0;
  std::optional<int64_t> image_size = {};
  std::string image_size_name = "image_size";  // how messages call it
};

// A model with what a job needs to know about it.
struct Model {
  std::shared_ptr<nn::Module> module = {};
  std::string name = {};
  std::string description = {};
  Shape sample_shape;      // one sample's input (empty when a file does not record it)
  int64_t outputs = 0;     // per sample, for (batch, outputs) models; 0 otherwise
  int64_t vocabulary = 0;  // token ids in [0, vocabulary) for text models; 0 for images
  bool from_file = false;
  // The normalisation the model was trained with, when recorded.
  std::optional<data::Normalize> normalize = {};
  // An imported ONNX model's input and output names and input shapes (bdl's
  // model takes the inputs in this order and returns the first output).
  std::vector<std::string> onnx_inputs = {}, onnx_outputs = {};
  std::vector<Shape> onnx_input_shapes = {};
  io::ModelMetadata metadata() const;
};

// A model file: bdl's format, or ONNX (imported on the fly; the input shape
// comes from the file). Errors name the file.
Model load_model(const std::string& path);
// An ONNX file, imported: errors name the file ("not an ONNX model" for
// another format).
Model import_onnx(const std::string& path);
// A Keras file (.keras or .h5), imported: errors name the file and the layer.
Model import_keras(const std::string& path);
// The model a spec names. `classes` is the data's class count, used for zoo
// models when the spec gives none (0: the zoo's default).
Model build_model(const ModelSpec& spec, int64_t data_classes = 0);
// True when `name` is a file rather than a zoo name.
bool is_model_file(const std::string& name);

}  // namespace bdl::job
