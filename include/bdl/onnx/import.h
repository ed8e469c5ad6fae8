#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "bdl/core/tensor.h"
#include "bdl/nn/graph.h"

namespace bdl::onnx {

// The model uses what bdl cannot run: operators it does not have (all of them
// named at once), an attribute value it does not support, a data type other than
// float32 for the data flowing through the graph. Callers that survey many
// models (the conformance driver) count these apart from wrong results.
class Unsupported : public Error {
 public:
  explicit Unsupported(const std::string& message) : Error(message) {}
};

struct ImportOptions {
  // The batch size assumed where an input dimension is symbolic ("N"): the
  // importer computes every shape once, to check them and to resolve shape
  // arithmetic. The graph still runs on other batch sizes where the model allows.
  int64_t batch = 1;
  // Graph inputs given values at import: they become constants like
  // initializers (trainable when float), as when a model is exported with its
  // weights, shapes and axes fixed. ONNX's operator tests pass those as inputs.
  std::map<std::string, Tensor> bind;
  // Map the exporters' arithmetic for GELU, LayerNorm and attention onto bdl's
  // native layers (ImportedModel::fused); off, every node converts as written.
  bool fuse = true;
};

// An ONNX model as a bdl Graph: one graph input per ONNX input that is not an
// initializer, in order; the graph's output is the first ONNX output, and every
// output's node is listed for models with several. Initializers become the
// layers' trainable parameters (an imported model can be fine-tuned); values
// computed only from constants are folded at import.
struct ImportedModel {
  std::unique_ptr<nn::Graph> graph;
  std::vector<std::string> input_names;
  std::vector<Shape> input_shapes;  // symbolic dimensions at ImportOptions::batch
  std::vector<std::string> output_names;
  std::vector<nn::Graph::Node> output_nodes;
  int64_t opset = 0;
  std::string producer;  // "pytorch 1.13.0"
  // The exporters' arithmetic mapped onto bdl's native layers, by ONNX
  // operator: {"Gelu": 12, "LayerNormalization": 25, "ScaledDotProductAttention": 12}.
  std::map<std::string, int> fused;
  // Patterns recognised but converted as written, since the native layer does
  // not fit their shapes: "node: reason" (the result is the same, slower).
  std::vector<std::string> unfused;
};

// Opsets the importer reads (the default domain); others are rejected. The
// operator changes before opset 7 that bdl models meet (legacy broadcasting,
// attributes that became inputs) are handled per converter.
constexpr int64_t kMinOpset = 1;
constexpr int64_t kMaxOpset = 21;

// Reads and converts an ONNX file; errors name the file, and the node and
// attribute at fault.
ImportedModel import_model(const std::string& path, const ImportOptions& options = {});
// The same from bytes in memory; `name` stands for the file in messages.
ImportedModel import_model(std::span<const std::byte> bytes, const std::string& name,
                           const ImportOptions& options = {});

// The names of the model's graph inputs that are not initializers, in order
// (what the data of a test set or a caller's inputs correspond to).
std::vector<std::string> graph_input_names(const std::string& path);

// A serialized onnx.TensorProto (the test_data_set_*/input_0.pb files of ONNX's
// backend tests) as a tensor: float32 and int64 (int32, bool and uint8 widen to int64).
Tensor read_tensor(const std::string& path);

// The ONNX operators import_model converts, sorted.
std::vector<std::string> supported_operators();

}  // namespace bdl::onnx
