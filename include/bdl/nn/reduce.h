#pragma once

#include <memory>
#include <string>
#include <vector>

#include "bdl/nn/layer.h"

namespace bdl::nn {

enum class ReduceOp { sum, mean, max, min };
constexpr EnumNames<ReduceOp, 4> enum_names(ReduceOp) {
  return {{{ReduceOp::sum, "sum"},
           {ReduceOp::mean, "mean"},
           {ReduceOp::max, "max"},
           {ReduceOp::min, "min"}}};
}

struct ReduceOptions {
  ReduceOp op = ReduceOp::sum;
  std::vector<int64_t> axes = {};  // all when empty
  bool keep_dims = true;
  static void fields(auto& o, auto& field) {
    field("op", o.op);
    field("axes", o.axes);
    field("keep_dims", o.keep_dims, Presence::may_be_absent);
  }
};

// Sums, averages, maxima or minima over the given axes (all when empty), keeping
// them as size 1 when keep_dims (ONNX ReduceSum, ReduceMean, ReduceMax,
// ReduceMin). The gradient of a maximum goes to every element equal to it.
class Reduce : public Layer<Reduce> {
 public:
  static constexpr std::string_view kType = "Reduce";
  explicit Reduce(ReduceOptions o) : Reduce(o.op, std::move(o.axes), o.keep_dims) {}
  Reduce(ReduceOp op, std::vector<int64_t> axes, bool keep_dims);
  const Tensor& forward(const Tensor& input) override;
  const Tensor& backward(const Tensor& input, const Tensor& grad_output) override;
  std::string describe() const override;
  Shape output_shape(const Shape& input) const override;
  ReduceOptions options() const { return {op_, axes_, keep_dims_}; }

 private:
  // The input shape with reduced axes at size 1.
  Shape kept_shape(const Shape& input) const;
  ReduceOp op_;
  std::vector<int64_t> axes_;
  bool keep_dims_;
  Tensor dense_, dense_grad_;
};

}  // namespace bdl::nn
