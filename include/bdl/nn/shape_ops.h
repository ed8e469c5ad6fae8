#pragma once

#include <memory>
#include <string>

#include "bdl/nn/module.h"

// Layers that move elements without arithmetic, as ONNX's Reshape (of the whole
// tensor), Transpose, Slice, Pad and Gather; what imported graphs are made of
// between their convolutions and products. Plain loops over strided views.
namespace bdl::nn {

// Views the whole input, batch dimension included, as a fixed shape (Reshape
// keeps the batch dimension; this is for graphs that reshape across it).
class View : public Module {
 public:
  void attributes(Attributes& out) const override;
  static std::unique_ptr<Module> create(const Attributes& a);
  explicit View(Shape shape);
  const Tensor& forward(const Tensor& input) override;
  const Tensor& backward(const Tensor& input, const Tensor& grad_output) override;
  std::string type() const override { return "View"; }
  std::string describe() const override;
  Shape output_shape(const Shape& input) const override;

 private:
  Shape shape_;
  Tensor dense_, dense_grad_;
};

// Permutes the dimensions: output dimension i is input dimension perm[i], as
// torch.permute and ONNX Transpose.
class Transpose : public Module {
 public:
  void attributes(Attributes& out) const override;
  static std::unique_ptr<Module> create(const Attributes& a);
  explicit Transpose(std::vector<int64_t> perm);
  const Tensor& forward(const Tensor& input) override;
  const Tensor& backward(const Tensor& input, const Tensor& grad_output) override;
  std::string type() const override { return "Transpose"; }
  std::string describe() const override;
  Shape output_shape(const Shape& input) const override;

 private:
  // The input's contiguous strides in output order: output index i steps
  // through input dimension perm[i].
  Shape permuted_strides(const Shape& input) const;
  std::vector<int64_t> perm_;
  Tensor dense_, dense_grad_;
};

// Elements start, start+step, ... before end along each listed axis, with
// Python's rules for negative and out-of-range bounds (ONNX Slice). Steps may be
// negative; the gradient scatters back and is zero elsewhere.
class Slice : public Module {
 public:
  void attributes(Attributes& out) const override;
  static std::unique_ptr<Module> create(const Attributes& a);
  Slice(std::vector<int64_t> axes, std::vector<int64_t> starts, std::vector<int64_t> ends,
        std::vector<int64_t> steps);
  const Tensor& forward(const Tensor& input) override;
  const Tensor& backward(const Tensor& input, const Tensor& grad_output) override;
  std::string type() const override { return "Slice"; }
  std::string describe() const override;
  Shape output_shape(const Shape& input) const override;

 private:
  // Per input dimension: first element, step and count; and the slice as a
  // strided view of the contiguous input (its strides and element offset).
  struct Extent {
    Shape start, step, count;
    Shape strides;
    int64_t offset = 0;
  };
  Extent extent(const Shape& input) const;
  std::vector<int64_t> axes_, starts_, ends_, steps_;
  Tensor dense_, dense_grad_;
};

enum class PadMode { constant, reflect, edge };

// Pads every dimension: pads holds the counts before each dimension, then the
// counts after each (ONNX Pad's order). constant fills with value; reflect
// mirrors without repeating the edge; edge repeats it. Counts are at least 0.
class Pad : public Module {
 public:
  void attributes(Attributes& out) const override;
  static std::unique_ptr<Module> create(const Attributes& a);
  Pad(std::vector<int64_t> pads, PadMode mode = PadMode::constant, float value = 0.f);
  const Tensor& forward(const Tensor& input) override;
  const Tensor& backward(const Tensor& input, const Tensor& grad_output) override;
  std::string type() const override { return "Pad"; }
  std::string describe() const override;
  Shape output_shape(const Shape& input) const override;

 private:
  // The input index an output index reads along one dimension of size n.
  int64_t source(int64_t i, int64_t before, int64_t n) const;
  // Per dimension of the output, the input index each output index reads (-1: padding).
  std::vector<std::vector<int64_t>> index_maps(const Shape& out, const Shape& in) const;
  std::vector<int64_t> pads_;
  PadMode mode_;
  float value_;
  Tensor dense_, dense_grad_;
};

// Picks entries along one axis by fixed indices (ONNX Gather with constant
// indices; negative ones count from the end): the output shape is the input's
// with that axis replaced by the indices' shape.
class Gather : public Module {
 public:
  void attributes(Attributes& out) const override;
  static std::unique_ptr<Module> create(const Attributes& a);
  Gather(int64_t axis, std::vector<int64_t> indices, Shape indices_shape);
  const Tensor& forward(const Tensor& input) override;
  const Tensor& backward(const Tensor& input, const Tensor& grad_output) override;
  std::string type() const override { return "Gather"; }
  std::string describe() const override;
  Shape output_shape(const Shape& input) const override;

 private:
  int64_t axis(size_t rank) const;
  int64_t axis_;
  std::vector<int64_t> indices_;
  Shape indices_shape_;
  Tensor dense_, dense_grad_;
};

enum class ReduceOp { sum, mean, max, min };

// Sums, averages, maxima or minima over the given axes (all when empty), keeping
// them as size 1 when keep_dims (ONNX ReduceSum, ReduceMean, ReduceMax,
// ReduceMin). The gradient of a maximum goes to every element equal to it.
class Reduce : public Module {
 public:
  void attributes(Attributes& out) const override;
  static std::unique_ptr<Module> create(const Attributes& a);
  Reduce(ReduceOp op, std::vector<int64_t> axes, bool keep_dims);
  const Tensor& forward(const Tensor& input) override;
  const Tensor& backward(const Tensor& input, const Tensor& grad_output) override;
  std::string type() const override { return "Reduce"; }
  std::string describe() const override;
  Shape output_shape(const Shape& input) const override;

 private:
  // The input shape with reduced axes at size 1.
  Shape kept_shape(const Shape& input) const;
  ReduceOp op_;
  std::vector<int64_t> axes_;
  bool keep_dims_;
  Tensor dense_, dense_grad_;
};

}  // namespace bdl::nn
