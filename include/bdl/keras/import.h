#pragma once

// Keras models in: Keras 3's .keras archive and Keras 2's HDF5 file (.h5), for
// Sequential and functional models of the layers bdl has. Keras's layout is
// channels-last: the imported graph takes the input as Keras does (N, H, W, C)
// and computes in bdl's (N, C, H, W), with the order of features after Flatten
// as Keras has it, so Dense weights load unchanged.
#include <memory>
#include <string>
#include <vector>

#include "bdl/core/error.h"
#include "bdl/nn/graph.h"

namespace bdl::keras {

// The model uses what bdl does not import: layers (all named at once), or an
// option of a layer it has.
class Unsupported : public Error {
 public:
  explicit Unsupported(const std::string& message) : Error(message) {}
};

struct ImportedModel {
  std::unique_ptr<nn::Graph> graph;
  std::string name;            // the Keras model's name
  std::string format;          // "Keras 3 archive (.keras)" or "Keras HDF5 (.h5)"
  std::string keras_version;   // as the file records it, when it does
  Shape input_shape;           // one sample, in Keras's layout
  bool integer_input = false;  // token ids (an Embedding first)
};

// Reads a .keras or .h5 file; errors name the file and the layer at fault.
ImportedModel import_model(const std::string& path);

// Whether the file is a Keras model file (by its contents: a zip archive with
// a config.json, or HDF5 with a model_config attribute).
bool looks_like_keras(const std::string& path);

}  // namespace bdl::keras
