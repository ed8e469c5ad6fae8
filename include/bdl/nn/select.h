#pragma once

// Layers that choose elements by a condition, a position or an index: Where,
// Trilu, GatherElements, and ArgReduce (the index of a maximum or minimum).
// Booleans are bdl's float32 0 and 1 (a condition is true where nonzero) and
// indices are float32 integers, as everywhere in bdl's imported graphs.
#include <array>
#include <optional>
#include <string>
#include <vector>

#include "bdl/nn/layer.h"
#include "bdl/nn/multi_input.h"

namespace bdl::nn {

// x where the condition is nonzero, y elsewhere, with NumPy broadcasting of all
// three (ONNX Where, torch.where). Any of the three may be a fixed tensor the
// layer owns instead of an input (a causal mask, a fill value of -inf): its
// shape is then given here, and the remaining operands are the inputs, in the
// order condition, x, y. The gradient goes to x where the condition holds and to
// y elsewhere, summed over broadcast dimensions; the condition has none.
struct WhereOptions {
  std::optional<Shape> condition_shape = {};
  std::optional<Shape> x_shape = {};
  std::optional<Shape> y_shape = {};
  static void fields(auto& o, auto& field) {
    field("condition_shape", o.condition_shape);
    field("x_shape", o.x_shape);
    field("y_shape", o.y_shape);
  }
};

class Where : public Layer<Where, MultiInputModule> {
 public:
  static constexpr std::string_view kType = "Where";
  explicit Where(const WhereOptions& o = {});
  const Tensor& forward_many(Inputs inputs) override;
  const std::vector<Tensor>& backward_many(Inputs inputs, const Tensor& grad_output) override;
  Shape output_shape_many(std::span<const Shape> inputs) const override;
  size_t arity() const override;
  std::string describe() const override;
  void own_buffers(std::vector<Buffer>& out) override;
  WhereOptions options() const;

  // Operand k (0 the condition, 1 x, 2 y) when the layer owns it.
  Tensor& owned(int k) { return owned_.at(static_cast<size_t>(k)); }

 private:
  // The three operands: owned tensors or the inputs (made dense).
  std::array<const Tensor*, 3> operands(Inputs inputs);
  std::array<Tensor, 3> owned_;
  std::array<Tensor, 3> dense_;
  Tensor dense_grad_;
};

// The upper (or lower) triangle of the last two dimensions, from diagonal k on
// (ONNX Trilu, torch.triu and tril): the other elements are 0, exactly, even
// where the input is infinite.
struct TriluOptions {
  bool upper = true;
  int64_t k = 0;
  static void fields(auto& o, auto& field) {
    field("upper", o.upper);
    field("k", o.k);
  }
};

class Trilu : public Layer<Trilu> {
 public:
  static constexpr std::string_view kType = "Trilu";
  explicit Trilu(TriluOptions o = {}) : options_(o) {}
  const Tensor& forward(const Tensor& input) override;
  const Tensor& backward(const Tensor& input, const Tensor& grad_output) override;
  Shape output_shape(const Shape& input) const override;
  const TriluOptions& options() const { return options_; }

 private:
  // Whether element (row, col) is kept.
  bool kept(int64_t row, int64_t col) const {
    return options_.upper ? col - row >= options_.k : col - row <= options_.k;
  }
  void mask(const Tensor& from, Tensor& to) const;
  TriluOptions options_;
  Tensor dense_, dense_grad_;
};

// out[i][j][k] = input[i][index[i][j][k]][k] along `axis` (here 1), for fixed
// indices of the input's rank (ONNX GatherElements, torch.gather); negative ones
// count from the end. The output has the indices' shape.
struct GatherElementsOptions {
  int64_t axis = 0;
  std::vector<int64_t> indices = {};
  Shape indices_shape = {};
  static void fields(auto& o, auto& field) {
    field("axis", o.axis);
    field("indices", o.indices);
    field("indices_shape", o.indices_shape);
  }
};

class GatherElements : public Layer<GatherElements> {
 public:
  static constexpr std::string_view kType = "GatherElements";
  explicit GatherElements(GatherElementsOptions o);
  const Tensor& forward(const Tensor& input) override;
  const Tensor& backward(const Tensor& input, const Tensor& grad_output) override;
  Shape output_shape(const Shape& input) const override;
  std::string describe() const override;
  const GatherElementsOptions& options() const { return options_; }

 private:
  // Calls f(output offset, input offset) for every output element.
  template <typename F>
  void visit(const Shape& input, F f) const;
  GatherElementsOptions options_;
  Tensor dense_, dense_grad_;
};

// The index of the maximum or minimum along one axis (ONNX ArgMax and ArgMin,
// torch.argmax): the first one, or the last when select_last. The result holds
// integers as float32; it has no gradient.
enum class ArgOp { max, min };
constexpr EnumNames<ArgOp, 2> enum_names(ArgOp) {
  return {{{ArgOp::max, "max"}, {ArgOp::min, "min"}}};
}

struct ArgReduceOptions {
  ArgOp op = ArgOp::max;
  int64_t axis = 0;
  bool keep_dims = true;
  bool select_last = false;
  static void fields(auto& o, auto& field) {
    field("op", o.op);
    field("axis", o.axis);
    field("keep_dims", o.keep_dims);
    field("select_last", o.select_last);
  }
};

class ArgReduce : public Layer<ArgReduce> {
 public:
  static constexpr std::string_view kType = "ArgReduce";
  explicit ArgReduce(ArgReduceOptions o) : options_(o) {}
  const Tensor& forward(const Tensor& input) override;
  const Tensor& backward(const Tensor& input, const Tensor& grad_output) override;
  Shape output_shape(const Shape& input) const override;
  const ArgReduceOptions& options() const { return options_; }

 private:
  ArgReduceOptions options_;
  Tensor dense_;
};

}  // namespace bdl::nn
