// The Keras layers bdl imports, one converter each, listed by class name at
// the end. Weights arrive in Keras's layouts (Dense kernels (in, out), Conv2D
// kernels (kh, kw, in, out), recurrent gates i f c o or z r h) and are moved
// into bdl's (PyTorch's) here.
#include <algorithm>
#include <cmath>
#include <map>

#include "bdl/nn/activations.h"
#include "bdl/nn/attention.h"
#include "bdl/nn/batch_norm.h"
#include "bdl/nn/conv2d.h"
#include "bdl/nn/dropout.h"
#include "bdl/nn/elementwise.h"
#include "bdl/nn/embedding.h"
#include "bdl/nn/linear.h"
#include "bdl/nn/multi_input.h"
#include "bdl/nn/pad.h"
#include "bdl/nn/pooling.h"
#include "bdl/nn/recurrent.h"
#include "bdl/nn/reshape.h"
#include "bdl/nn/softmax.h"
#include "bdl/nn/view.h"
#include "keras/builder.h"

namespace bdl::keras {
namespace {

template <typename M, typename... Args>
std::unique_ptr<nn::Module> make(Args&&... args) {
  return std::make_unique<M>(std::forward<Args>(args)...);
}

// Keras's pair options: an integer or a list of two.
nn::Size2 pair(const LayerSpec& l, const std::string& key, int64_t fallback) {
  const auto it = l.config.find(key);
  if (it == l.config.end() || it->is_null()) return {fallback, fallback};
  if (it->is_number()) return {it->get<int64_t>(), it->get<int64_t>()};
  const auto v = it->get<std::vector<int64_t>>();
  if (v.size() != 2) unsupported("layer '", l.name, "': ", key, " has ", v.size(), " entries");
  return {v[0], v[1]};
}

void check_channels_last(const LayerSpec& l) {
  if (l.get<std::string>("data_format", "channels_last") != "channels_last") {
    unsupported("layer '", l.name, "': data_format ", l.get<std::string>("data_format", ""),
                " (bdl imports channels_last models)");
  }
}

// TensorFlow's "same" padding of one dimension: total padding, the smaller half first.
std::pair<int64_t, int64_t> same_padding(int64_t in, int64_t k, int64_t s, int64_t d) {
  const int64_t out = (in + s - 1) / s;
  const int64_t total = std::max<int64_t>(0, (out - 1) * s + (k - 1) * d + 1 - in);
  return {total / 2, total - total / 2};
}

// (kh, kw, in, out) -> (out, in, kh, kw).
Tensor conv_weight(const Tensor& k) {
  const Shape& s = k.shape();
  Tensor w({s[3], s[2], s[0], s[1]});
  const float* src = k.f32();
  float* dst = w.f32();
  for (int64_t y = 0; y < s[0]; ++y) {
    for (int64_t x = 0; x < s[1]; ++x) {
      for (int64_t i = 0; i < s[2]; ++i) {
        for (int64_t o = 0; o < s[3]; ++o) {
          dst[((o * s[2] + i) * s[0] + y) * s[1] + x] = src[((y * s[1] + x) * s[2] + i) * s[3] + o];
        }
      }
    }
  }
  return w;
}

Tensor transposed(const Tensor& m) {
  const int64_t r = m.shape()[0], c = m.shape()[1];
  Tensor t({c, r});
  for (int64_t i = 0; i < r; ++i) {
    for (int64_t j = 0; j < c; ++j) t.f32()[j * r + i] = m.f32()[i * c + j];
  }
  return t;
}

Value image_input(Builder& b, const LayerSpec& l, const std::vector<Value>& in) {
  if (in.size() != 1) unsupported("layer '", l.name, "' takes one input, given ", in.size());
  if (in[0].shape.size() != 4) {
    unsupported("layer '", l.name, "' (", l.class_name, ") on a rank ", in[0].shape.size(),
                " input; bdl imports the 2-d image form");
  }
  check_channels_last(l);
  return b.channels_first(in[0], l.name + "/to_nchw");
}

// A Conv2d from Keras's options, with TensorFlow's "same" padding.
nn::Conv2dOptions conv_options(const LayerSpec& l, const Value& x, int64_t in, int64_t out,
                               nn::Size2 kernel, int64_t groups, bool bias) {
  const nn::Size2 stride = pair(l, "strides", 1);
  const nn::Size2 dilation = pair(l, "dilation_rate", 1);
  nn::Conv2dOptions o{.in_channels = in,
                      .out_channels = out,
                      .kernel = kernel,
                      .stride = stride,
                      .dilation = dilation,
                      .groups = groups,
                      .bias = bias};
  const std::string padding = l.get<std::string>("padding", "valid");
  if (padding == "same") {
    const auto [top, bottom] = same_padding(x.shape[2], kernel.h, stride.h, dilation.h);
    const auto [left, right] = same_padding(x.shape[3], kernel.w, stride.w, dilation.w);
    o.padding = {top, left};
    o.padding_end = nn::Size2{bottom, right};
  } else if (padding != "valid") {
    unsupported("layer '", l.name, "': padding '", padding, "'");
  }
  return o;
}

Value conv2d(Builder& b, const LayerSpec& l, const std::vector<Value>& in) {
  const Value x = image_input(b, l, in);
  const int64_t filters = l.get<int64_t>("filters", 0);
  const int64_t groups = l.get<int64_t>("groups", 1);
  const nn::Size2 kernel = pair(l, "kernel_size", 1);
  const bool bias = l.get<bool>("use_bias", true);
  const int64_t channels = x.shape[1];
  auto m =
      std::make_unique<nn::Conv2d>(conv_options(l, x, channels, filters, kernel, groups, bias));
  m->weight() = conv_weight(l.weight(0, {kernel.h, kernel.w, channels / groups, filters}));
  if (bias) m->bias() = l.weight(1, {filters});
  const Value y = b.add(std::move(m), {x}, l.name, true);
  return b.activate(y, l.get<std::string>("activation", "linear"), l.name);
}

// Depthwise (kh, kw, in, multiplier) -> a grouped Conv2d with out = in * multiplier.
std::unique_ptr<nn::Conv2d> depthwise(const LayerSpec& l, const Value& x, const Tensor& k,
                                      bool bias) {
  const Shape& s = k.shape();
  const int64_t channels = s[2], mult = s[3];
  auto m = std::make_unique<nn::Conv2d>(
      conv_options(l, x, channels, channels * mult, {s[0], s[1]}, channels, bias));
  Tensor w({channels * mult, 1, s[0], s[1]});
  for (int64_t y = 0; y < s[0]; ++y) {
    for (int64_t xx = 0; xx < s[1]; ++xx) {
      for (int64_t c = 0; c < channels; ++c) {
        for (int64_t j = 0; j < mult; ++j) {
          w.f32()[((c * mult + j) * s[0] + y) * s[1] + xx] =
              k.f32()[((y * s[1] + xx) * channels + c) * mult + j];
        }
      }
    }
  }
  m->weight() = w;
  return m;
}

Value depthwise_conv2d(Builder& b, const LayerSpec& l, const std::vector<Value>& in) {
  const Value x = image_input(b, l, in);
  const nn::Size2 kernel = pair(l, "kernel_size", 1);
  const int64_t mult = l.get<int64_t>("depth_multiplier", 1);
  const bool bias = l.get<bool>("use_bias", true);
  auto m = depthwise(l, x, l.weight(0, {kernel.h, kernel.w, x.shape[1], mult}), bias);
  if (bias) m->bias() = l.weight(1, {x.shape[1] * mult});
  const Value y = b.add(std::move(m), {x}, l.name, true);
  return b.activate(y, l.get<std::string>("activation", "linear"), l.name);
}

Value separable_conv2d(Builder& b, const LayerSpec& l, const std::vector<Value>& in) {
  const Value x = image_input(b, l, in);
  const nn::Size2 kernel = pair(l, "kernel_size", 1);
  const int64_t mult = l.get<int64_t>("depth_multiplier", 1);
  const int64_t filters = l.get<int64_t>("filters", 0);
  const bool bias = l.get<bool>("use_bias", true);
  const int64_t mid = x.shape[1] * mult;
  const Value d = b.add(depthwise(l, x, l.weight(0, {kernel.h, kernel.w, x.shape[1], mult}), false),
                        {x}, l.name + "/depthwise", true);
  auto pointwise = std::make_unique<nn::Conv2d>(
      nn::Conv2dOptions{.in_channels = mid, .out_channels = filters, .bias = bias});
  pointwise->weight() = conv_weight(l.weight(1, {1, 1, mid, filters}));
  if (bias) pointwise->bias() = l.weight(2, {filters});
  const Value y = b.add(std::move(pointwise), {d}, l.name, true);
  return b.activate(y, l.get<std::string>("activation", "linear"), l.name);
}

Value pool2d(Builder& b, const LayerSpec& l, const std::vector<Value>& in, bool average) {
  const Value x = image_input(b, l, in);
  const nn::Size2 kernel = pair(l, "pool_size", 2);
  const auto stride_it = l.config.find("strides");
  const nn::Size2 stride =
      stride_it == l.config.end() || stride_it->is_null() ? kernel : pair(l, "strides", 1);
  nn::Pool2dOptions o{.kernel = kernel, .stride = stride, .count_include_pad = false};
  const std::string padding = l.get<std::string>("padding", "valid");
  if (padding == "same") {
    // TensorFlow's padding as symmetric padding and ceil mode, where the window
    // part past the input never counts: checked to give its output size.
    const auto [top, bottom] = same_padding(x.shape[2], kernel.h, stride.h, 1);
    const auto [left, right] = same_padding(x.shape[3], kernel.w, stride.w, 1);
    o.padding = {top, left};
    o.ceil_mode = bottom > top || right > left;
    auto out = [&](int64_t n, int64_t k, int64_t s, int64_t p) {
      const int64_t span = n + 2 * p - k;
      return (o.ceil_mode ? (span + s - 1) / s : span / s) + 1;
    };
    if (out(x.shape[2], kernel.h, stride.h, top) != (x.shape[2] + stride.h - 1) / stride.h ||
        out(x.shape[3], kernel.w, stride.w, left) != (x.shape[3] + stride.w - 1) / stride.w) {
      unsupported("layer '", l.name, "': 'same' pooling of ", x.shape[2], "x", x.shape[3], " by ",
                  kernel.h, "x", kernel.w, " with strides ", stride.h, "x", stride.w);
    }
  } else if (padding != "valid") {
    unsupported("layer '", l.name, "': padding '", padding, "'");
  }
  if (average) return b.add(make<nn::AvgPool2d>(o), {x}, l.name, true);
  return b.add(make<nn::MaxPool2d>(o), {x}, l.name, true);
}

Value global_pool(Builder& b, const LayerSpec& l, const std::vector<Value>& in, bool average) {
  const Value x = image_input(b, l, in);
  std::unique_ptr<nn::Module> m;
  if (average) {
    m = make<nn::GlobalAvgPool2d>();
  } else {
    m = make<nn::GlobalMaxPool2d>();
  }
  // keepdims: (N, 1, 1, C) to Keras, (N, C, 1, 1) as held.
  Value pooled = b.add(std::move(m), {x}, l.name, true);
  if (l.get<bool>("keepdims", false)) return pooled;
  return b.add(make<nn::View>(Shape{-1, x.shape[1]}), {pooled}, l.name + "/flat", false);
}

Value dense(Builder& b, const LayerSpec& l, const std::vector<Value>& in) {
  const Value x = b.keras_layout(in.at(0), l.name + "/to_nhwc");
  const int64_t features = x.shape.back();
  const int64_t units = l.get<int64_t>("units", 0);
  const bool bias = l.get<bool>("use_bias", true);
  auto m = std::make_unique<nn::Linear>(features, units, bias);
  m->weight() = transposed(l.weight(0, {features, units}));
  if (bias) m->bias() = l.weight(1, {units});
  const Value y = b.add(std::move(m), {x}, l.name, false);
  return b.activate(y, l.get<std::string>("activation", "linear"), l.name);
}

Value batch_norm(Builder& b, const LayerSpec& l, const std::vector<Value>& in) {
  Value x = in.at(0);
  const auto axis = l.get<int64_t>("axis", -1);
  const auto rank = static_cast<int64_t>(x.shape.size());
  const bool last = axis == -1 || axis == rank - 1;
  if (!last || (rank != 2 && rank != 4)) {
    unsupported("layer '", l.name, "': BatchNormalization over axis ", axis, " of a rank ", rank,
                " input (bdl normalises the channels of images and the features of vectors)");
  }
  if (rank == 4) x = b.channels_first(x, l.name + "/to_nchw");
  const int64_t c = x.shape[1];  // channels as held, or features
  auto m = std::make_unique<nn::BatchNorm>(
      nn::BatchNormOptions{.num_features = c,
                           .eps = l.get<float>("epsilon", 1e-3f),
                           .momentum = 1.f - l.get<float>("momentum", 0.99f)});
  size_t i = 0;
  if (l.get<bool>("scale", true)) {
    m->weight() = l.weight(i++, {c});
  } else {
    m->weight().fill(1.f);
  }
  if (l.get<bool>("center", true)) {
    m->bias() = l.weight(i++, {c});
  } else {
    m->bias().zero();
  }
  m->running_mean() = l.weight(i++, {c});
  m->running_var() = l.weight(i, {c});
  return b.add(std::move(m), {x}, l.name, rank == 4);
}

Value layer_norm(Builder& b, const LayerSpec& l, const std::vector<Value>& in) {
  const Value x = b.keras_layout(in.at(0), l.name + "/to_nhwc");
  const Json axis = l.config.value("axis", Json(-1));
  const bool last =
      (axis.is_number() && (axis.get<int64_t>() == -1 ||
                            axis.get<int64_t>() + 1 == static_cast<int64_t>(x.shape.size()))) ||
      (axis.is_array() && axis.size() == 1 &&
       (axis[0].get<int64_t>() == -1 ||
        axis[0].get<int64_t>() + 1 == static_cast<int64_t>(x.shape.size())));
  if (!last) unsupported("layer '", l.name, "': LayerNormalization over axis ", axis.dump());
  const int64_t d = x.shape.back();
  auto m = std::make_unique<nn::LayerNorm>(
      nn::LayerNormOptions{.normalized_shape = {d}, .eps = l.get<float>("epsilon", 1e-3f)});
  size_t i = 0;
  if (l.get<bool>("scale", true)) {
    m->weight() = l.weight(i++, {d});
  }
  if (l.get<bool>("center", true)) {
    m->bias() = l.weight(i, {d});
  } else {
    m->bias().zero();
  }
  return b.add(std::move(m), {x}, l.name, false);
}

Value dropout(Builder& b, const LayerSpec& l, const std::vector<Value>& in) {
  return b.add(make<nn::Dropout>(l.get<float>("rate", 0.5f)), {in.at(0)}, l.name,
               in.at(0).channels_first);
}

Value flatten(Builder& b, const LayerSpec& l, const std::vector<Value>& in) {
  // Keras flattens (N, H, W, C) in that order: Dense weights after it expect it.
  const Value x = b.keras_layout(in.at(0), l.name + "/to_nhwc");
  return b.add(make<nn::Flatten>(), {x}, l.name, false);
}

Value reshape(Builder& b, const LayerSpec& l, const std::vector<Value>& in) {
  const Value x = b.keras_layout(in.at(0), l.name + "/to_nhwc");
  Shape target{-1};
  for (int64_t d : l.get<std::vector<int64_t>>("target_shape", {})) target.push_back(d);
  return b.add(make<nn::View>(target), {x}, l.name, false);
}

Value activation(Builder& b, const LayerSpec& l, const std::vector<Value>& in) {
  return b.activate(in.at(0), l.get<std::string>("activation", "linear"), l.name);
}

Value relu(Builder& b, const LayerSpec& l, const std::vector<Value>& in) {
  const auto max_value = l.get<float>("max_value", -1.f);
  const auto slope = l.get<float>("negative_slope", 0.f);
  if (l.get<float>("threshold", 0.f) != 0.f) unsupported("layer '", l.name, "': threshold");
  const Value& x = in.at(0);
  if (max_value >= 0.f && slope == 0.f) {
    return b.add(make<nn::HardTanh>(0.f, max_value), {x}, l.name, x.channels_first);
  }
  if (max_value >= 0.f) unsupported("layer '", l.name, "': max_value with negative_slope");
  if (slope != 0.f) return b.add(make<nn::LeakyReLU>(slope), {x}, l.name, x.channels_first);
  return b.add(make<nn::ReLU>(), {x}, l.name, x.channels_first);
}

Value leaky_relu(Builder& b, const LayerSpec& l, const std::vector<Value>& in) {
  // Keras 3 calls it negative_slope, Keras 2 alpha.
  const float slope = l.get<float>("negative_slope", l.get<float>("alpha", 0.3f));
  return b.add(make<nn::LeakyReLU>(slope), {in.at(0)}, l.name, in.at(0).channels_first);
}

Value elu(Builder& b, const LayerSpec& l, const std::vector<Value>& in) {
  return b.add(make<nn::ELU>(l.get<float>("alpha", 1.f)), {in.at(0)}, l.name,
               in.at(0).channels_first);
}

Value softmax(Builder& b, const LayerSpec& l, const std::vector<Value>& in) {
  const Json axis = l.config.value("axis", Json(-1));
  if (!(axis.is_number() && axis.get<int64_t>() == -1)) {
    unsupported("layer '", l.name, "': Softmax over axis ", axis.dump());
  }
  return b.activate(in.at(0), "softmax", l.name);
}

Value embedding(Builder& b, const LayerSpec& l, const std::vector<Value>& in) {
  if (l.get<bool>("mask_zero", false)) {
    unsupported("layer '", l.name, "': mask_zero (masked sequences)");
  }
  const int64_t n = l.get<int64_t>("input_dim", 0), d = l.get<int64_t>("output_dim", 0);
  auto m = std::make_unique<nn::Embedding>(
      nn::EmbeddingOptions{.num_embeddings = n, .embedding_dim = d});
  m->weight() = l.weight(0, {n, d});
  return b.add(std::move(m), {in.at(0)}, l.name, false);
}

void check_recurrent(const LayerSpec& l) {
  if (l.get<bool>("go_backwards", false)) unsupported("layer '", l.name, "': go_backwards");
  if (l.get<bool>("return_state", false)) unsupported("layer '", l.name, "': return_state");
  if (l.get<bool>("stateful", false)) unsupported("layer '", l.name, "': stateful");
  if (l.get<std::string>("activation", "tanh") != "tanh" ||
      l.get<std::string>("recurrent_activation", "sigmoid") != "sigmoid") {
    unsupported("layer '", l.name, "': activations other than tanh and sigmoid");
  }
}

// Sets a recurrent layer's parameter by name.
void set_parameter(nn::Module& m, const std::string& name, Tensor value) {
  for (auto& p : m.parameters()) {
    if (p.name == name) {
      *p.value = std::move(value);
      return;
    }
  }
  fail("no parameter ", name);
}

// Rows of gate blocks (G*U, k) reordered: block i of `order` becomes block i.
Tensor reorder_gates(const Tensor& m, int64_t units, const std::vector<int64_t>& order) {
  const int64_t cols = m.numel() / m.shape()[0];
  Tensor out(m.shape());
  for (size_t g = 0; g < order.size(); ++g) {
    std::copy_n(m.f32() + order[g] * units * cols, units * cols,
                out.f32() + static_cast<int64_t>(g) * units * cols);
  }
  return out;
}

Value lstm(Builder& b, const LayerSpec& l, const std::vector<Value>& in) {
  check_recurrent(l);
  const Value& x = in.at(0);
  if (x.shape.size() != 3) unsupported("layer '", l.name, "': input of rank ", x.shape.size());
  const int64_t units = l.get<int64_t>("units", 0), features = x.shape[2];
  const bool bias = l.get<bool>("use_bias", true);
  auto m = std::make_unique<nn::LSTM>(
      nn::RecurrentOptions{.input_size = features,
                           .hidden_size = units,
                           .return_sequences = l.get<bool>("return_sequences", false)});
  // Keras's gates i, f, c, o are PyTorch's i, f, g, o.
  set_parameter(*m, "weight_ih_l0", transposed(l.weight(0, {features, 4 * units})));
  set_parameter(*m, "weight_hh_l0", transposed(l.weight(1, {units, 4 * units})));
  set_parameter(*m, "bias_ih_l0", bias ? l.weight(2, {4 * units}) : Tensor({4 * units}));
  set_parameter(*m, "bias_hh_l0", Tensor({4 * units}));
  return b.add(std::move(m), {x}, l.name, false);
}

Value gru(Builder& b, const LayerSpec& l, const std::vector<Value>& in) {
  check_recurrent(l);
  const Value& x = in.at(0);
  if (x.shape.size() != 3) unsupported("layer '", l.name, "': input of rank ", x.shape.size());
  const int64_t units = l.get<int64_t>("units", 0), features = x.shape[2];
  const bool bias = l.get<bool>("use_bias", true);
  const bool reset_after = l.get<bool>("reset_after", true);
  nn::GRUOptions o;
  o.input_size = features;
  o.hidden_size = units;
  o.return_sequences = l.get<bool>("return_sequences", false);
  o.reset_after = reset_after;
  auto m = std::make_unique<nn::GRU>(o);
  // Keras's gates z, r, h; PyTorch's r, z, n.
  const std::vector<int64_t> order{1, 0, 2};
  set_parameter(*m, "weight_ih_l0",
                reorder_gates(transposed(l.weight(0, {features, 3 * units})), units, order));
  set_parameter(*m, "weight_hh_l0",
                reorder_gates(transposed(l.weight(1, {units, 3 * units})), units, order));
  Tensor b_ih({3 * units}), b_hh({3 * units});
  if (bias) {
    const Tensor& k = l.weight(2, reset_after ? Shape{2, 3 * units} : Shape{3 * units});
    std::copy_n(k.f32(), 3 * units, b_ih.f32());
    if (reset_after) std::copy_n(k.f32() + 3 * units, 3 * units, b_hh.f32());
  }
  set_parameter(*m, "bias_ih_l0",
                reorder_gates(b_ih.view({3 * units, 1}), units, order).view({3 * units}));
  set_parameter(*m, "bias_hh_l0",
                reorder_gates(b_hh.view({3 * units, 1}), units, order).view({3 * units}));
  return b.add(std::move(m), {x}, l.name, false);
}

// Add, Subtract, Multiply, Average, Maximum, Minimum: every input in the first
// one's layout.
Value merge(Builder& b, const LayerSpec& l, const std::vector<Value>& in, nn::BinaryOp op,
            bool average) {
  if (in.size() == 1 && l.scalar && !average) {
    // Keras 3's operation on a tensor and a number (x + 3.0, 1.0 - x).
    auto m = std::make_unique<nn::Binary>(op, Shape{}, l.scalar_first, false);
    m->constant().fill(*l.scalar);
    return b.add(std::move(m), {in[0]}, l.name, in[0].channels_first);
  }
  if (in.size() < 2) unsupported("layer '", l.name, "' with ", in.size(), " input");
  std::vector<Value> xs{in[0]};
  for (size_t i = 1; i < in.size(); ++i) {
    xs.push_back(in[0].channels_first ? b.channels_first(in[i], l.name + "/to_nchw")
                                      : b.keras_layout(in[i], l.name + "/to_nhwc"));
  }
  const bool first = in[0].channels_first;
  const bool same =
      std::all_of(xs.begin(), xs.end(), [&](const Value& v) { return v.shape == xs[0].shape; });
  if (op == nn::BinaryOp::add && same) {
    Value sum = b.add(make<nn::Add>(), xs, average ? l.name + "/sum" : l.name, first);
    if (!average) return sum;
    auto scale = std::make_unique<nn::Binary>(nn::BinaryOp::mul, Shape{}, false, false);
    scale->constant().fill(1.f / static_cast<float>(xs.size()));
    return b.add(std::move(scale), {sum}, l.name, first);
  }
  Value acc = xs[0];
  for (size_t i = 1; i < xs.size(); ++i) {
    acc = b.add(make<nn::Binary>(op), {acc, xs[i]},
                i + 1 == xs.size() ? l.name : l.name + "/" + std::to_string(i), first);
  }
  return acc;
}

Value concatenate(Builder& b, const LayerSpec& l, const std::vector<Value>& in) {
  const auto rank = static_cast<int64_t>(in.at(0).shape.size());
  int64_t axis = l.get<int64_t>("axis", -1);
  if (axis < 0) axis += rank;
  std::vector<Value> xs;
  const bool first = in[0].channels_first;
  xs.reserve(in.size());
  for (const Value& v : in) {
    xs.push_back(first ? b.channels_first(v, l.name + "/to_nchw")
                       : b.keras_layout(v, l.name + "/to_nhwc"));
  }
  // Keras's axis of (N, H, W, C) in (N, C, H, W).
  if (first) axis = axis == 3 ? 1 : axis + 1;
  return b.add(make<nn::JoinTable>(axis), xs, l.name, first);
}

// A fixed per-feature (Keras's last axis) or scalar operand: (C, 1, 1) for an
// image held channels first.
Value with_constant(Builder& b, const Value& x, nn::BinaryOp op, const std::vector<float>& values,
                    const std::string& name) {
  Shape shape;
  if (values.size() > 1) {
    shape = x.channels_first ? Shape{static_cast<int64_t>(values.size()), 1, 1}
                             : Shape{static_cast<int64_t>(values.size())};
  }
  auto m = std::make_unique<nn::Binary>(op, shape, false, false);
  std::copy(values.begin(), values.end(), m->constant().f32());
  return b.add(std::move(m), {x}, name, x.channels_first);
}

// A config entry that is a number or a list of numbers.
std::vector<float> numbers(const LayerSpec& l, const std::string& key, float fallback) {
  const Json v = l.config.value(key, Json(fallback));
  if (v.is_number()) return {v.get<float>()};
  if (v.is_array() &&
      std::all_of(v.begin(), v.end(), [](const Json& e) { return e.is_number(); })) {
    return v.get<std::vector<float>>();
  }
  unsupported("layer '", l.name, "': ", key, " ", v.dump().substr(0, 80));
}

Value rescaling(Builder& b, const LayerSpec& l, const std::vector<Value>& in) {
  const Value scaled =
      with_constant(b, in.at(0), nn::BinaryOp::mul, numbers(l, "scale", 1.f), l.name + "/scale");
  return with_constant(b, scaled, nn::BinaryOp::add, numbers(l, "offset", 0.f), l.name);
}

// (x - mean) / sqrt(variance), per feature of the last axis, from the adapted
// weights (mean, variance, count) or the config's values.
Value normalization(Builder& b, const LayerSpec& l, const std::vector<Value>& in) {
  if (l.get<bool>("invert", false)) unsupported("layer '", l.name, "': invert");
  const Value& x = in.at(0);
  const auto rank = static_cast<int64_t>(x.shape.size());
  const Json axis = l.config.value("axis", Json(-1));
  auto is_last = [&](const Json& a) {
    return a.get<int64_t>() == -1 || a.get<int64_t>() == rank - 1;
  };
  const bool last = (axis.is_number() && is_last(axis)) ||
                    (axis.is_array() && axis.size() == 1 && is_last(axis[0]));
  if (!last) unsupported("layer '", l.name, "': Normalization over axis ", axis.dump());
  const int64_t c = x.channels_first ? x.shape[1] : x.shape.back();
  std::vector<float> mean, variance;
  if (l.weights.size() >= 2) {
    const Tensor m = l.weight(0, {c}), v = l.weight(1, {c});
    mean.assign(m.f32(), m.f32() + c);
    variance.assign(v.f32(), v.f32() + c);
  } else {
    mean = numbers(l, "mean", 0.f);
    variance = numbers(l, "variance", 1.f);
  }
  std::vector<float> inv;
  inv.reserve(variance.size());
  for (float v : variance) inv.push_back(1.f / std::sqrt(std::max(v, 1e-7f)));
  const Value centred = with_constant(b, x, nn::BinaryOp::sub, mean, l.name + "/centre");
  return with_constant(b, centred, nn::BinaryOp::mul, inv, l.name);
}

Value zero_padding2d(Builder& b, const LayerSpec& l, const std::vector<Value>& in) {
  const Value x = image_input(b, l, in);
  const Json p = l.config.value("padding", Json(1));
  int64_t top = 0, bottom = 0, left = 0, right = 0;
  if (p.is_number()) {
    top = bottom = left = right = p.get<int64_t>();
  } else if (p.size() == 2 && p[0].is_number()) {
    top = bottom = p[0].get<int64_t>();
    left = right = p[1].get<int64_t>();
  } else if (p.size() == 2) {
    top = p[0][0];
    bottom = p[0][1];
    left = p[1][0];
    right = p[1][1];
  } else {
    unsupported("layer '", l.name, "': padding ", p.dump());
  }
  return b.add(make<nn::Pad>(std::vector<int64_t>{0, 0, top, left, 0, 0, bottom, right}), {x},
               l.name, true);
}

Value input_layer(Builder&, const LayerSpec& l, const std::vector<Value>&) {
  fail("layer '", l.name, "': an InputLayer after the first layer");
}

}  // namespace

// The activations Keras names, on any layout (softmax over Keras's last axis).
Value Builder::activate(const Value& v, const std::string& activation, const std::string& name) {
  const bool cf = v.channels_first;
  const std::string n = name + "/" + activation;
  if (activation == "linear" || activation.empty()) return v;
  if (activation == "relu") return add(make<nn::ReLU>(), {v}, n, cf);
  if (activation == "relu6") return add(make<nn::HardTanh>(0.f, 6.f), {v}, n, cf);
  if (activation == "sigmoid") return add(make<nn::Sigmoid>(), {v}, n, cf);
  if (activation == "tanh") return add(make<nn::Tanh>(), {v}, n, cf);
  if (activation == "elu") return add(make<nn::ELU>(1.f), {v}, n, cf);
  if (activation == "selu") {
    return add(make<nn::Unary>(nn::UnaryOp::selu, 1.67326324f, 1.05070098f), {v}, n, cf);
  }
  if (activation == "gelu") return add(make<nn::GELU>(false), {v}, n, cf);
  if (activation == "softplus") return add(make<nn::SoftPlus>(1.f, 20.f), {v}, n, cf);
  if (activation == "softsign") return add(make<nn::Unary>(nn::UnaryOp::softsign), {v}, n, cf);
  if (activation == "hard_sigmoid") {
    return add(make<nn::Unary>(nn::UnaryOp::hard_sigmoid, 1.f / 6.f, 0.5f), {v}, n, cf);
  }
  if (activation == "hard_swish" || activation == "hard_silu") {
    return add(make<nn::Unary>(nn::UnaryOp::hard_swish), {v}, n, cf);
  }
  if (activation == "exponential") return add(make<nn::Unary>(nn::UnaryOp::exp), {v}, n, cf);
  if (activation == "leaky_relu") return add(make<nn::LeakyReLU>(0.2f), {v}, n, cf);
  if (activation == "mish") return add(make<nn::Unary>(nn::UnaryOp::mish), {v}, n, cf);
  if (activation == "swish" || activation == "silu") {
    const Value s = add(make<nn::Sigmoid>(), {v}, n + "/sigmoid", cf);
    return add(make<nn::Binary>(nn::BinaryOp::mul), {v, s}, n, cf);
  }
  if (activation == "softmax") {
    return add(make<nn::SoftMax>(cf ? int64_t{1} : int64_t{-1}), {v}, n, cf);
  }
  unsupported("layer '", name, "': activation '", activation, "'");
}

namespace {
const std::map<std::string, Converter>& converters() {
  static const std::map<std::string, Converter> table{
      {"Activation", &activation},
      {"Add",
       [](Builder& b, const LayerSpec& l, const std::vector<Value>& in) {
         return merge(b, l, in, nn::BinaryOp::add, false);
       }},
      {"AveragePooling2D", [](Builder& b, const LayerSpec& l,
                              const std::vector<Value>& in) { return pool2d(b, l, in, true); }},
      {"Average",
       [](Builder& b, const LayerSpec& l, const std::vector<Value>& in) {
         return merge(b, l, in, nn::BinaryOp::add, true);
       }},
      {"BatchNormalization", &batch_norm},
      {"Concatenate", &concatenate},
      {"Conv2D", &conv2d},
      {"DepthwiseConv2D", &depthwise_conv2d},
      {"Dense", &dense},
      {"Divide",
       [](Builder& b, const LayerSpec& l, const std::vector<Value>& in) {
         return merge(b, l, in, nn::BinaryOp::div, false);
       }},
      {"Dropout", &dropout},
      {"ELU", &elu},
      {"Embedding", &embedding},
      {"Flatten", &flatten},
      {"GRU", &gru},
      {"GlobalAveragePooling2D",
       [](Builder& b, const LayerSpec& l, const std::vector<Value>& in) {
         return global_pool(b, l, in, true);
       }},
      {"GlobalMaxPooling2D",
       [](Builder& b, const LayerSpec& l, const std::vector<Value>& in) {
         return global_pool(b, l, in, false);
       }},
      {"InputLayer", &input_layer},
      {"LSTM", &lstm},
      {"LayerNormalization", &layer_norm},
      {"LeakyReLU", &leaky_relu},
      {"MaxPooling2D", [](Builder& b, const LayerSpec& l,
                          const std::vector<Value>& in) { return pool2d(b, l, in, false); }},
      {"Maximum",
       [](Builder& b, const LayerSpec& l, const std::vector<Value>& in) {
         return merge(b, l, in, nn::BinaryOp::max, false);
       }},
      {"Minimum",
       [](Builder& b, const LayerSpec& l, const std::vector<Value>& in) {
         return merge(b, l, in, nn::BinaryOp::min, false);
       }},
      {"Multiply",
       [](Builder& b, const LayerSpec& l, const std::vector<Value>& in) {
         return merge(b, l, in, nn::BinaryOp::mul, false);
       }},
      {"Normalization", &normalization},
      {"ReLU", &relu},
      {"Rescaling", &rescaling},
      {"Reshape", &reshape},
      {"SeparableConv2D", &separable_conv2d},
      {"Softmax", &softmax},
      {"Subtract",
       [](Builder& b, const LayerSpec& l, const std::vector<Value>& in) {
         return merge(b, l, in, nn::BinaryOp::sub, false);
       }},
      {"TrueDivide",
       [](Builder& b, const LayerSpec& l, const std::vector<Value>& in) {
         return merge(b, l, in, nn::BinaryOp::div, false);
       }},
      {"ZeroPadding2D", &zero_padding2d},
  };
  return table;
}
}  // namespace

Converter find_converter(const std::string& class_name) {
  const auto it = converters().find(class_name);
  return it == converters().end() ? nullptr : it->second;
}

std::vector<std::string> supported_layers() {
  std::vector<std::string> out;
  for (const auto& [name, f] : converters()) {
    if (name != "InputLayer") out.push_back(name);
  }
  return out;
}

}  // namespace bdl::keras
