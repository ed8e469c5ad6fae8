#pragma once

// ONNX export: an Emitter writes nodes and initializers into a GraphProto, and
// a table maps each layer type (its kType) to the function that writes it. The
// functions live by family in this folder; a layer without an entry is refused
// by name.
#include <onnx/onnx_pb.h>

#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "bdl/core/tensor.h"
#include "bdl/nn/module.h"

namespace bdl::onnx::exporting {

// A module's inputs as the exporter sees them: ONNX value names, shapes (batch
// first, exported as a symbolic dimension) and the module's path, which prefixes
// the names of what it writes.
struct Inputs {
  std::vector<std::string> names;
  std::vector<Shape> shapes;
  std::string path;
  const std::string& x() const { return names.at(0); }
  const Shape& shape() const { return shapes.at(0); }
};

class Emitter {
 public:
  explicit Emitter(::onnx::GraphProto& g) : g_(g) {}

  // A value or node name not used yet, from a hint.
  std::string fresh(const std::string& hint);
  std::string initializer(const Tensor& t, const std::string& hint);
  std::string ints(const std::vector<int64_t>& v, const std::string& hint);
  std::string scalar(float v, const std::string& hint);

  // A node with one output, whose name is stored in *output.
  ::onnx::NodeProto& node(const std::string& op, const std::vector<std::string>& inputs,
                          const std::string& hint, std::string* output);
  // A node with one output and no attributes; returns the output.
  std::string op(const std::string& type, const std::vector<std::string>& inputs,
                 const std::string& hint);
  // A node with several outputs.
  ::onnx::NodeProto& node_with_outputs(const std::string& op,
                                       const std::vector<std::string>& inputs,
                                       const std::string& hint, std::vector<std::string>* outputs,
                                       size_t count);

  static void attr(::onnx::NodeProto& n, const std::string& name, int64_t v);
  static void attr(::onnx::NodeProto& n, const std::string& name, float v);
  static void attr(::onnx::NodeProto& n, const std::string& name, const std::string& v);
  static void attr(::onnx::NodeProto& n, const std::string& name, const std::vector<int64_t>& v);

  // The module on its inputs; returns the name of its output.
  std::string emit(nn::Module& m, const Inputs& in);

 private:
  ::onnx::GraphProto& g_;
  std::set<std::string> used_;
  int counter_ = 0;
};

// A named tensor of a module (parameter or buffer), contiguous.
Tensor tensor_of(nn::Module& m, const std::string& name);
// "path.name" for a child, by its name or its index.
std::string child_path(const std::string& path, const nn::Module& child, size_t index);

using Exporter = std::function<std::string(Emitter&, nn::Module&, const Inputs&)>;
using ExporterTable = std::map<std::string, Exporter, std::less<>>;

// Adds the exporter of layer type L: f(emitter, layer, inputs) -> output name.
template <typename L, typename F>
void add(ExporterTable& table, F f) {
  table.emplace(std::string(L::kType), [f](Emitter& e, nn::Module& m, const Inputs& in) {
    auto* layer = dynamic_cast<L*>(&m);
    BDL_CHECK(layer != nullptr, in.path, ": a ", m.type(), " that is not a ", L::kType);
    return f(e, *layer, in);
  });
}

// The families' entries.
void add_container_exporters(ExporterTable& table);
void add_activation_exporters(ExporterTable& table);
void add_layer_exporters(ExporterTable& table);
void add_tensor_exporters(ExporterTable& table);
void add_recurrent_exporters(ExporterTable& table);
void add_attention_exporters(ExporterTable& table);

const ExporterTable& exporters();

}  // namespace bdl::onnx::exporting
