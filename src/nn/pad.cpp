#include "bdl/nn/pad.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "nn/dense.h"
#include "nn/strided.h"

namespace bdl::nn {

Pad::Pad(std::vector<int64_t> pads, PadMode mode, float value)
    : pads_(std::move(pads)), mode_(mode), value_(value) {
  BDL_CHECK(pads_.size() % 2 == 0, "Pad: ", pads_.size(),
            " pad counts; expected two per dimension");
  for (int64_t p : pads_) {
    BDL_CHECK(p >= 0, "Pad: negative pad count ", p, " in ", shape_str(pads_));
    BDL_CHECK(p <= (int64_t{1} << 40), "Pad: pad count ", p, " is too large");
  }
}

std::string Pad::describe() const {
  std::string s = "Pad(" + shape_str(pads_) + ", " + std::string(fields::enum_name(mode_));
  if (mode_ == PadMode::constant && value_ != 0.f) s += ", value " + std::to_string(value_);
  return s + ")";
}

Shape Pad::output_shape(const Shape& input) const {
  const size_t rank = pads_.size() / 2;
  BDL_CHECK(input.size() == rank, label(), ": ", pads_.size(), " pad counts for an input of shape ",
            shape_str(input));
  Shape out = input;
  for (size_t d = 0; d < rank; ++d) {
    out[d] += pads_[d] + pads_[rank + d];
    if (mode_ == PadMode::reflect) {
      BDL_CHECK(pads_[d] < input[d] && pads_[rank + d] < input[d], label(), ": reflect padding of ",
                pads_[d], " and ", pads_[rank + d], " needs more than ", input[d],
                " elements along dimension ", d);
    }
    if (mode_ != PadMode::constant && out[d] > input[d]) {
      BDL_CHECK(input[d] > 0, label(), ": cannot ", std::string(fields::enum_name(mode_)),
                "-pad an empty dimension ", d);
    }
  }
  return out;
}

int64_t Pad::source(int64_t i, int64_t before, int64_t n) const {
  int64_t j = i - before;
  if (j >= 0 && j < n) return j;
  switch (mode_) {
    case PadMode::constant:
      return -1;
    case PadMode::edge:
      return j < 0 ? 0 : n - 1;
    case PadMode::reflect:
      if (n == 1) return 0;
      while (j < 0 || j >= n) j = j < 0 ? -j : 2 * (n - 1) - j;
      return j;
  }
  return -1;
}

std::vector<std::vector<int64_t>> Pad::index_maps(const Shape& out, const Shape& in) const {
  std::vector<std::vector<int64_t>> maps(out.size());
  for (size_t d = 0; d < out.size(); ++d) {
    for (int64_t i = 0; i < out[d]; ++i) maps[d].push_back(source(i, pads_[d], in[d]));
  }
  return maps;
}

namespace {

// Visits every output row of a padded tensor with the source offsets of its
// elements (-1 for a padding value): visit(out_row, map_of_last_dim, base)
// where the source of element i is base + map[i], or padding when base < 0 or
// map[i] < 0.
template <typename Visit>
void for_each_padded_row(const Shape& out, const std::vector<std::vector<int64_t>>& maps,
                         const Shape& in_strides, Visit&& visit) {
  const size_t rank = out.size();
  if (shape_numel(out) == 0) return;
  if (rank == 0) {
    visit(int64_t{0}, maps.empty() ? std::vector<int64_t>{0} : maps.back(), int64_t{0});
    return;
  }
  const int64_t rows = shape_numel(out) / out.back();
  std::vector<int64_t> index(rank, 0);
  for (int64_t r = 0; r < rows; ++r) {
    int64_t base = 0;
    for (size_t d = 0; d + 1 < rank && base >= 0; ++d) {
      const int64_t s = maps[d][static_cast<size_t>(index[d])];
      base = s < 0 ? -1 : base + s * in_strides[d];
    }
    visit(r * out.back(), maps[rank - 1], base);
    for (size_t d = rank - 1; d-- > 0;) {
      if (++index[d] < out[d]) break;
      index[d] = 0;
    }
  }
}

}  // namespace

const Tensor& Pad::forward(const Tensor& input) {
  const Tensor& x = dense(input, dense_);
  const Shape out = output_shape(x.shape());
  // The output first: its allocation is what a size check (a loader's budget)
  // sees, before per-dimension index maps as long as the output's sides.
  output_.resize(out);
  if (output_.numel() == 0) return output_;
  const auto maps = index_maps(out, x.shape());
  const float* px = x.f32();
  float* py = output_.f32();
  const Shape in_strides = contiguous_strides(x.shape());
  for_each_padded_row(out, maps, in_strides,
                      [&](int64_t row, const std::vector<int64_t>& map, int64_t base) {
                        float* y = py + row;
                        for (size_t i = 0; i < map.size(); ++i) {
                          y[i] = base < 0 || map[i] < 0 ? value_ : px[base + map[i]];
                        }
                      });
  return output_;
}

const Tensor& Pad::backward(const Tensor& input, const Tensor& grad_output) {
  check_grad_output(grad_output, output_.shape());
  if (!needs_input_grad_) return grad_input_;
  const Tensor& g = dense(grad_output, dense_grad_);
  const Shape& out = g.shape();
  grad_input_.resize(input.shape());
  grad_input_.zero();
  if (g.numel() == 0) return grad_input_;
  const auto maps = index_maps(out, input.shape());
  const float* pg = g.f32();
  float* pd = grad_input_.f32();
  for_each_padded_row(out, maps, contiguous_strides(input.shape()),
                      [&](int64_t row, const std::vector<int64_t>& map, int64_t base) {
                        if (base < 0) return;
                        for (size_t i = 0; i < map.size(); ++i) {
                          if (map[i] >= 0) pd[base + map[i]] += pg[row + static_cast<int64_t>(i)];
                        }
                      });
  return grad_input_;
}

const RegisterLayers<Pad> kRegistered;

}  // namespace bdl::nn
