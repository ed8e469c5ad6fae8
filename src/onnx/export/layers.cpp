// Convolutions, pooling, normalisation, fully connected layers, dropout and
// resizing.
#include "bdl/nn/batch_norm.h"
#include "bdl/nn/conv2d.h"
#include "bdl/nn/conv_transpose2d.h"
#include "bdl/nn/dropout.h"
#include "bdl/nn/linear.h"
#include "bdl/nn/lrn.h"
#include "bdl/nn/pooling.h"
#include "bdl/nn/resize.h"
#include "onnx/export/emitter.h"

namespace bdl::onnx::exporting {
namespace {

// Weight and (when the layer has one) bias as initializers after the input.
template <typename Options>
std::vector<std::string> weight_inputs(Emitter& e, nn::Module& m, const Options& o,
                                       const Inputs& in) {
  std::vector<std::string> args{in.x(), e.initializer(tensor_of(m, "weight"), in.path + ".weight")};
  if (o.bias) args.push_back(e.initializer(tensor_of(m, "bias"), in.path + ".bias"));
  return args;
}

// Conv's and ConvTranspose's shared attributes.
template <typename Options>
void convolution_attributes(::onnx::NodeProto& n, const Options& o) {
  const nn::Size2 end = o.padding_end.value_or(o.padding);
  Emitter::attr(n, "kernel_shape", to_list(o.kernel));
  Emitter::attr(n, "strides", to_list(o.stride));
  Emitter::attr(n, "pads", std::vector<int64_t>{o.padding.h, o.padding.w, end.h, end.w});
  Emitter::attr(n, "dilations", to_list(o.dilation));
  Emitter::attr(n, "group", o.groups);
}

std::string conv(Emitter& e, nn::Conv2d& m, const Inputs& in) {
  std::string out;
  auto& n = e.node("Conv", weight_inputs(e, m, m.options(), in), in.path, &out);
  convolution_attributes(n, m.options());
  return out;
}

std::string conv_transpose(Emitter& e, nn::ConvTranspose2d& m, const Inputs& in) {
  std::string out;
  auto& n = e.node("ConvTranspose", weight_inputs(e, m, m.options(), in), in.path, &out);
  convolution_attributes(n, m.options());
  Emitter::attr(n, "output_padding", to_list(m.options().output_padding));
  return out;
}

// Fixed sizes as (N, C from the input, then height and width), so the batch
// stays free; or scales (1, 1, h, w).
std::string resize(Emitter& e, nn::Resize& m, const Inputs& in) {
  const nn::ResizeOptions& o = m.options();
  const std::string& p = in.path;
  std::vector<std::string> args{in.x(), ""};
  if (o.height > 0) {
    const std::string shape = e.op("Shape", {in.x()}, p);
    const std::string nc =
        e.op("Slice", {shape, e.ints({0}, p + ".start"), e.ints({2}, p + ".end")}, p);
    std::string sizes;
    Emitter::attr(e.node("Concat", {nc, e.ints({o.height, o.width}, p + ".size")}, p, &sizes),
                  "axis", int64_t{0});
    args.emplace_back("");
    args.push_back(sizes);
  } else {
    const std::vector<float> scales{1.f, 1.f, static_cast<float>(o.scale_h),
                                    static_cast<float>(o.scale_w)};
    args.push_back(e.initializer(Tensor::from_vector(scales, {4}), p + ".scales"));
  }
  std::string out;
  auto& n = e.node("Resize", args, p, &out);
  Emitter::attr(n, "mode", std::string(nn::fields::enum_name(o.mode)));
  Emitter::attr(n, "coordinate_transformation_mode",
                std::string(nn::fields::enum_name(o.coordinates)));
  Emitter::attr(n, "nearest_mode", std::string(nn::fields::enum_name(o.rounding)));
  if (o.mode == nn::ResizeMode::cubic) {
    Emitter::attr(n, "cubic_coeff_a", static_cast<float>(o.cubic_a));
    Emitter::attr(n, "exclude_outside", int64_t{o.exclude_outside});
  }
  return out;
}

template <typename L>
std::string pool(Emitter& e, L& m, const Inputs& in) {
  constexpr bool kAverage = std::is_same_v<L, nn::AvgPool2d>;
  const nn::Pool2dOptions& o = m.options();
  std::string out;
  auto& n = e.node(kAverage ? "AveragePool" : "MaxPool", {in.x()}, in.path, &out);
  Emitter::attr(n, "kernel_shape", to_list(o.kernel));
  Emitter::attr(n, "strides", to_list(m.stride()));
  Emitter::attr(n, "pads",
                std::vector<int64_t>{o.padding.h, o.padding.w, o.padding.h, o.padding.w});
  Emitter::attr(n, "ceil_mode", int64_t{o.ceil_mode});
  if (kAverage) Emitter::attr(n, "count_include_pad", int64_t{o.count_include_pad});
  return out;
}

// In evaluation form: the running statistics.
std::string batch_norm(Emitter& e, nn::BatchNorm& m, const Inputs& in) {
  const nn::BatchNormOptions& o = m.options();
  if (!o.track_running_stats) {
    fail(in.path, ": BatchNorm without running statistics has no inference form");
  }
  const int64_t c = o.num_features;
  const Tensor scale = o.affine ? tensor_of(m, "weight") : Tensor::full({c}, 1.f);
  const Tensor bias = o.affine ? tensor_of(m, "bias") : Tensor::zeros({c});
  const std::string& p = in.path;
  std::string out;
  auto& n = e.node("BatchNormalization",
                   {in.x(), e.initializer(scale, p + ".weight"), e.initializer(bias, p + ".bias"),
                    e.initializer(tensor_of(m, "running_mean"), p + ".running_mean"),
                    e.initializer(tensor_of(m, "running_var"), p + ".running_var")},
                   p, &out);
  Emitter::attr(n, "epsilon", o.eps);
  Emitter::attr(n, "momentum", 1.f - o.momentum);
  return out;
}

std::string lrn(Emitter& e, nn::LRN& m, const Inputs& in) {
  const nn::LrnOptions& o = m.options();
  std::string out;
  auto& n = e.node("LRN", {in.x()}, in.path, &out);
  Emitter::attr(n, "size", o.size);
  Emitter::attr(n, "alpha", o.alpha);
  Emitter::attr(n, "beta", o.beta);
  Emitter::attr(n, "bias", o.k);
  return out;
}

// Gemm on 2-d input; on other ranks x W^T (+ b) over the last dimension.
std::string linear(Emitter& e, nn::Linear& m, const Inputs& in) {
  const bool bias = m.options().bias;
  std::string out;
  if (in.shape().size() == 2) {
    Emitter::attr(e.node("Gemm", weight_inputs(e, m, m.options(), in), in.path, &out), "transB",
                  int64_t{1});
    return out;
  }
  const Tensor w = tensor_of(m, "weight");
  Tensor wt = Tensor::empty({w.shape()[1], w.shape()[0]});
  wt.copy_from(w.transpose(0, 1));
  out = e.op("MatMul", {in.x(), e.initializer(wt, in.path + ".weight_t")}, in.path);
  if (bias)
    out = e.op("Add", {out, e.initializer(tensor_of(m, "bias"), in.path + ".bias")}, in.path);
  return out;
}

std::string dropout(Emitter& e, nn::Dropout& m, const Inputs& in) {
  return e.op("Dropout", {in.x(), e.scalar(m.p(), in.path + ".ratio")}, in.path);
}

}  // namespace

void add_layer_exporters(ExporterTable& table) {
  add<nn::Conv2d>(table, conv);
  add<nn::ConvTranspose2d>(table, conv_transpose);
  add<nn::Resize>(table, resize);
  add<nn::MaxPool2d>(table, pool<nn::MaxPool2d>);
  add<nn::AvgPool2d>(table, pool<nn::AvgPool2d>);
  add<nn::GlobalAvgPool2d>(table, [](Emitter& e, nn::GlobalAvgPool2d&, const Inputs& in) {
    return e.op("GlobalAveragePool", {in.x()}, in.path);
  });
  add<nn::GlobalMaxPool2d>(table, [](Emitter& e, nn::GlobalMaxPool2d&, const Inputs& in) {
    return e.op("GlobalMaxPool", {in.x()}, in.path);
  });
  add<nn::BatchNorm>(table, batch_norm);
  add<nn::LRN>(table, lrn);
  add<nn::Linear>(table, linear);
  add<nn::Dropout>(table, dropout);
}

}  // namespace bdl::onnx::exporting
