#pragma once

#include <memory>
#include <string>
#include <vector>

#include "bdl/nn/layer.h"

namespace bdl::nn {

enum class PadMode { constant, reflect, edge };
constexpr EnumNames<PadMode, 3> enum_names(PadMode) {
  return {
      {{PadMode::constant, "constant"}, {PadMode::reflect, "reflect"}, {PadMode::edge, "edge"}}};
}

struct PadOptions {
  std::vector<int64_t> pads = {};  // before each dimension, then after each
  PadMode mode = PadMode::constant;
  float value = 0.f;
  static void fields(auto& o, auto& field) {
    field("pads", o.pads);
    field("mode", o.mode);
    field("value", o.value, Presence::may_be_absent);
  }
};

// Pads every dimension: pads holds the counts before each dimension, then the
// counts after each (ONNX Pad's order). constant fills with value; reflect
// mirrors without repeating the edge; edge repeats it. Counts are at least 0.
class Pad : public Layer<Pad> {
 public:
  static constexpr std::string_view kType = "Pad";
  explicit Pad(PadOptions o) : Pad(std::move(o.pads), o.mode, o.value) {}
  Pad(std::vector<int64_t> pads, PadMode mode = PadMode::constant, float value = 0.f);
  const Tensor& forward(const Tensor& input) override;
  const Tensor& backward(const Tensor& input, const Tensor& grad_output) override;
  std::string describe() const override;
  Shape output_shape(const Shape& input) const override;
  PadOptions options() const { return {pads_, mode_, value_}; }

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

}  // namespace bdl::nn
