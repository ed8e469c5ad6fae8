#pragma once

// What an operator converter sees of the import in progress: its node's inputs
// (graph values or constants), attributes, and a way to add bdl modules.
#include <onnx/onnx_pb.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "bdl/nn/graph.h"
#include "bdl/onnx/import.h"

namespace bdl::onnx {

// A named ONNX value during import: a node of the graph being built, or a tensor
// known at import time (an initializer, a Constant, or folded from those), with
// its shape either way.
struct Value {
  nn::Graph::Node node = -1;
  Tensor constant;           // defined for a constant: f32, or i64 for shape arithmetic
  bool initializer = false;  // from the model's initializers: becomes a trainable parameter
  Shape shape;
  // Which dimension is the batch (-1: none or not known). Shapes are computed at
  // the import batch size; reshapes express the batch dimension as -1 so that
  // the graph runs on any batch size.
  int batch_axis = -1;
  // Other dimensions folded into the batch one: its size is batch_outer times
  // the batch times batch_inner (a flatten of (N, T, C) to (N*T, C) has inner T;
  // attention's (L, N, E) to (L, N*H, E/H) inner H, and its (L, N, E) to
  // (L*N, E) outer L), so that a later reshape can split them off again. 0 when
  // not known.
  int64_t batch_outer = 1;
  int64_t batch_inner = 1;
  bool batch_merged() const { return batch_outer != 1 || batch_inner != 1; }
  // Integer data at run time (token ids from an int64 input): bdl carries it as
  // float32 values, which only an embedding lookup (Gather) and Cast may read.
  bool integer = false;
  // For a constant computed from the input's batch size (shape arithmetic on
  // Shape's output): its value were the batch one larger; undefined when it
  // does not depend on the batch. Where the two differ is where the batch is.
  Tensor alt;
  // A constant whose shape changes with the batch size (a Range up to it): its
  // values hold at the import's batch size only.
  bool batch_sized = false;
  // Zeros at run time (a zero constant repeated to the batch size: the initial
  // state TensorFlow's recurrent layers start from).
  bool zeros = false;
  // The run-time value whose shape it was computed from (node, shape and batch
  // axis), for layers that take the batch size from it.
  nn::Graph::Node alt_source = -1;
  Shape alt_source_shape;
  int alt_source_batch_axis = -1;
  bool is_constant() const { return constant.defined(); }
};

// Copies the run-time source of the first batch-dependent value of `from`.
void inherit_source(Value& to, const std::vector<Value>& from);

// onnx.TensorProto -> Tensor; `what` names it in errors.
Tensor to_tensor(const ::onnx::TensorProto& proto, const std::string& what);
// A constant as a list of integers (shapes, axes, pads), from i64 or f32 data.
std::vector<int64_t> to_integers(const Tensor& t);
std::vector<float> to_floats(const Tensor& t);

class Context {
 public:
  Context(nn::Graph& graph, std::map<std::string, Value>& values,
          const std::set<std::string>& consumed, int64_t opset, const ::onnx::NodeProto& node,
          int index);

  const ::onnx::NodeProto& node() const { return node_; }
  int64_t opset() const { return opset_; }
  // "node 'conv1' (Conv)", for messages.
  std::string where() const;

  // Inputs: an empty name in ONNX means an omitted optional input.
  bool has_input(size_t i) const;
  const Value& input(size_t i) const;
  size_t input_count() const { return static_cast<size_t>(node_.input_size()); }
  // The input's constant value; Unsupported when it is computed at run time.
  const Tensor& constant_input(size_t i, const char* what) const;
  std::vector<int64_t> integers_input(size_t i, const char* what) const;
  // A constant input that must not change with the batch size (indices, slice
  // bounds); Unsupported when shape arithmetic makes it from the batch size.
  const Tensor& fixed_input(size_t i, const char* what) const;
  // Whether output i is read by another node or is a model output.
  bool output_used(size_t i) const;

  bool has_attribute(const std::string& name) const { return find(name) != nullptr; }
  int64_t integer(const std::string& name, int64_t fallback) const;
  float real(const std::string& name, float fallback) const;
  std::string text(const std::string& name, const std::string& fallback) const;
  std::vector<int64_t> integers(const std::string& name, std::vector<int64_t> fallback) const;
  std::vector<float> reals(const std::string& name, std::vector<float> fallback) const;
  Tensor tensor(const std::string& name) const;

  // Adds a module fed by the given values and returns its output value. When
  // every input is a constant the module runs now and its output is a constant
  // (shape arithmetic, folded expressions); otherwise every input must be a
  // graph value.
  Value add(std::unique_ptr<nn::Module> module, const std::vector<Value>& from,
            bool takes_integers = false);
  // A constant value (not trainable).
  static Value constant(Tensor t);
  // A module run now on constant inputs (alt: on their values at batch + 1).
  Tensor fold(nn::Module& module, const std::vector<Value>& from, bool alt) const;
  void set_output(size_t i, Value v);

  // Errors from a converter; the importer prefixes the file and where().
  template <typename... Parts>
  [[noreturn]] void unsupported(Parts&&... parts) const {
    throw Unsupported(detail::concat(std::forward<Parts>(parts)...));
  }
  template <typename... Parts>
  [[noreturn]] void invalid(Parts&&... parts) const {
    throw Error(detail::concat(std::forward<Parts>(parts)...));
  }

 private:
  const ::onnx::AttributeProto* find(const std::string& name) const;
  const ::onnx::AttributeProto& typed(const std::string& name,
                                      ::onnx::AttributeProto::AttributeType type) const;

  nn::Graph& graph_;
  std::map<std::string, Value>& values_;
  const std::set<std::string>& consumed_;
  int64_t opset_;
  const ::onnx::NodeProto& node_;
  int index_;
  int modules_ = 0;
};

using Converter = void (*)(Context&);
// The converter for an operator type, or null.
Converter find_converter(const std::string& op_type);
std::vector<std::string> converter_names();
// The converter for a node fuse_patterns made (domain kFusedDomain), or null.
Converter find_fused_converter(const std::string& op_type);

}  // namespace bdl::onnx
