#include "bdl/kernels/conv2d.h"

#include <map>
#include <optional>

#include "bdl/kernels/backend.h"
#include "kernels/dnnl_context.h"
#include "kernels/layout.h"

namespace bdl::kernels {

using dnnl::algorithm;
using dnnl::memory;
using dnnl::prop_kind;

std::vector<int64_t> Conv2dGeometry::key() const {
  return {batch,
          in_channels,
          in_height,
          in_width,
          out_channels,
          kernel_h,
          kernel_w,
          stride_h,
          stride_w,
          pad_top,
          pad_left,
          pad_bottom,
          pad_right,
          dilation_h,
          dilation_w,
          groups,
          has_bias ? 1 : 0,
          static_cast<int64_t>(conv_algorithm()),
          static_cast<int64_t>(compute_precision())};
}

namespace {

struct Geometry {
  Dims src, weight, bias, dst, strides, dilation, pad_l, pad_r;
  Tag weight_tag;
};

Geometry dims_of(const Conv2dGeometry& g) {
  Geometry d;
  d.src = {g.batch, g.in_channels, g.in_height, g.in_width};
  d.dst = {g.batch, g.out_channels, g.out_height(), g.out_width()};
  if (g.groups == 1) {
    d.weight = {g.out_channels, g.in_channels, g.kernel_h, g.kernel_w};
    d.weight_tag = Tag::oihw;
  } else {
    d.weight = {g.groups, g.out_channels / g.groups, g.in_channels / g.groups, g.kernel_h,
                g.kernel_w};
    d.weight_tag = Tag::goihw;
  }
  d.bias = {g.out_channels};
  d.strides = {g.stride_h, g.stride_w};
  d.dilation = {g.dilation_h - 1, g.dilation_w - 1};
  d.pad_l = {g.pad_top, g.pad_left};
  d.pad_r = {g.pad_bottom, g.pad_right};
  return d;
}

struct Entry {
  Geometry dims;
  bool bf16 = false;
  algorithm algo = algorithm::convolution_direct;
  memory::desc plain_weight, bias;
  dnnl::convolution_forward::primitive_desc fwd_pd;
  dnnl::convolution_forward fwd;
  // The same convolution with max(., 0) applied as it writes (a post-op), made
  // on first use; null when oneDNN has none for these layouts.
  std::optional<std::optional<dnnl::convolution_forward>> fwd_relu;
  // Inference forwards with an epilogue (forward_fused), by what they apply;
  // null where oneDNN has none.
  std::map<int, std::optional<dnnl::convolution_forward>> fused;
  // Plain weights to the forward's layout, times a per-output-channel scale
  // given at run time: a BatchNorm folded in the reorder the weights take anyway.
  std::optional<dnnl::reorder> scaled_reorder;
  Tensor folded_weight, folded_bias, residual_scratch;
  std::optional<dnnl::convolution_backward_data::primitive_desc> bwd_data_pd;
  std::optional<dnnl::convolution_backward_data> bwd_data;
  std::optional<dnnl::convolution_backward_weights::primitive_desc> bwd_weights_pd;
  std::optional<dnnl::convolution_backward_weights> bwd_weights;
  // Reordered copies: input, weights in the primitive's layout, incoming
  // gradient, weight gradient before it is reordered back to plain.
  Tensor src_scratch, weight_scratch, weight_scratch2, grad_dst_scratch, grad_dst_scratch2,
      grad_weight_scratch;
  const float* last_weights = nullptr;  // weights as the last forward saw them
  bool src_reordered = false;           // src_scratch holds the last forward's input
};

memory::desc any_desc(const Dims& dims) { return {dims, memory::data_type::f32, Tag::any}; }
// What the convolution reads: bf16 under mixed precision (its outputs and the
// weight gradient stay f32).
memory::desc operand_desc(const Dims& dims, bool bf16) {
  return {dims, bf16 ? memory::data_type::bf16 : memory::data_type::f32, Tag::any};
}

// The propagation kind a convolution is created with. A convolution keeps
// nothing for backward either way, so the kinds differ only in which
// implementations oneDNN considers: for inference it prefers its direct
// brgconv kernels to Winograd, which made fp32 inference 10 to 20% slower than
// the same forward in evaluation mode here (ResNet-50, Inception v1, batch 16).
// fp32 therefore asks for the
// training kind under the automatic algorithm; bf16 (direct only) and an
// explicit algorithm keep the pass's own kind.
prop_kind conv_kind(Pass pass, bool bf16) {
  if (!bf16 && conv_algorithm() == ConvAlgorithm::automatic) return prop_kind::forward_training;
  return prop_kind_of(pass);
}

algorithm algorithm_now() {
  return conv_algorithm() == ConvAlgorithm::automatic ? algorithm::convolution_auto
                                                      : algorithm::convolution_direct;
}

Entry make_entry(const Conv2dGeometry& g, Pass pass) {
  Geometry d = dims_of(g);
  const bool bf16 = compute_precision() == Precision::bf16;
  // Winograd has no bf16 form: mixed precision convolves directly.
  const algorithm algo = bf16 ? algorithm::convolution_direct : algorithm_now();
  const auto bias = f32_desc(d.bias, Tag::x);
  const prop_kind kind = conv_kind(pass, bf16);
  auto desc = g.has_bias ? dnnl::convolution_forward::desc(
                               kind, algo, operand_desc(d.src, bf16), operand_desc(d.weight, bf16),
                               bias, any_desc(d.dst), d.strides, d.dilation, d.pad_l, d.pad_r)
                         : dnnl::convolution_forward::desc(
                               kind, algo, operand_desc(d.src, bf16), operand_desc(d.weight, bf16),
                               any_desc(d.dst), d.strides, d.dilation, d.pad_l, d.pad_r);
  Entry e;
  e.dims = d;
  e.bf16 = bf16;
  e.algo = algo;
  e.plain_weight = f32_desc(d.weight, d.weight_tag);
  e.bias = bias;
  try {
    e.fwd_pd = dnnl::convolution_forward::primitive_desc(desc, cpu_engine());
  } catch (const dnnl::error&) {
    BDL_CHECK(!bf16,
              "bf16 convolution is not available on this CPU (oneDNN found no "
              "implementation); use fp32");
    throw;
  }
  e.fwd = dnnl::convolution_forward(e.fwd_pd);
  return e;
}

// The rectifying forward, in exactly the forward's layouts so that backward
// (which shares the entry) sees what it expects.
dnnl::convolution_forward* rectifying_forward(Entry& e, const Conv2dGeometry& g, Pass pass) {
  if (!e.fwd_relu) {
    const Geometry& d = e.dims;
    const auto& pd = e.fwd_pd;
    dnnl::post_ops ops;
    ops.append_eltwise(1.f, algorithm::eltwise_relu, 0.f, 0.f);
    dnnl::primitive_attr attr;
    attr.set_post_ops(ops);
    const prop_kind kind = conv_kind(pass, e.bf16);
    auto desc = g.has_bias
                    ? dnnl::convolution_forward::desc(kind, e.algo, pd.src_desc(),
                                                      pd.weights_desc(), e.bias, pd.dst_desc(),
                                                      d.strides, d.dilation, d.pad_l, d.pad_r)
                    : dnnl::convolution_forward::desc(kind, e.algo, pd.src_desc(),
                                                      pd.weights_desc(), pd.dst_desc(), d.strides,
                                                      d.dilation, d.pad_l, d.pad_r);
    try {
      e.fwd_relu.emplace(dnnl::convolution_forward(
          dnnl::convolution_forward::primitive_desc(desc, attr, cpu_engine())));
    } catch (const dnnl::error&) {
      e.fwd_relu.emplace(std::nullopt);
    }
  }
  return *e.fwd_relu ? &**e.fwd_relu : nullptr;
}

// The forward with a bias (when folding), a residual addition and a ReLU
// applied as it writes, in exactly the forward's layouts.
dnnl::convolution_forward* fused_forward(Entry& e, Pass pass, bool bias, bool residual, bool relu) {
  const int key = (bias ? 1 : 0) | (residual ? 2 : 0) | (relu ? 4 : 0);
  auto it = e.fused.find(key);
  if (it == e.fused.end()) {
    const Geometry& d = e.dims;
    const auto& pd = e.fwd_pd;
    dnnl::post_ops ops;
    if (residual) ops.append_binary(algorithm::binary_add, pd.dst_desc());
    if (relu) ops.append_eltwise(1.f, algorithm::eltwise_relu, 0.f, 0.f);
    dnnl::primitive_attr attr;
    attr.set_post_ops(ops);
    const prop_kind kind = conv_kind(pass, e.bf16);
    auto desc = bias ? dnnl::convolution_forward::desc(kind, e.algo, pd.src_desc(),
                                                       pd.weights_desc(), e.bias, pd.dst_desc(),
                                                       d.strides, d.dilation, d.pad_l, d.pad_r)
                     : dnnl::convolution_forward::desc(kind, e.algo, pd.src_desc(),
                                                       pd.weights_desc(), pd.dst_desc(), d.strides,
                                                       d.dilation, d.pad_l, d.pad_r);
    std::optional<dnnl::convolution_forward> made;
    try {
      dnnl::convolution_forward::primitive_desc fused_pd(desc, attr, cpu_engine());
      // Only where the kernel stays the one the plain forward runs: a binary
      // post-op, for one, rules Winograd out, and ResNet-18's 3x3 convolutions
      // lost more in the direct kernel than the separate addition costs.
      if (std::string(fused_pd.impl_info_str()) == pd.impl_info_str()) made.emplace(fused_pd);
    } catch (const dnnl::error&) {
      // none for these layouts: the caller runs the parts separately
    }
    it = e.fused.emplace(key, std::move(made)).first;
  }
  return it->second ? &*it->second : nullptr;
}

void ensure_backward_data(Entry& e) {
  if (e.bwd_data) return;
  const Geometry& d = e.dims;
  dnnl::convolution_backward_data::desc desc(
      e.algo, any_desc(d.src), operand_desc(d.weight, e.bf16), operand_desc(d.dst, e.bf16),
      d.strides, d.dilation, d.pad_l, d.pad_r);
  e.bwd_data_pd.emplace(desc, cpu_engine(), e.fwd_pd);
  e.bwd_data.emplace(*e.bwd_data_pd);
}

void ensure_backward_weights(Entry& e, bool has_bias) {
  if (e.bwd_weights) return;
  const Geometry& d = e.dims;
  auto desc = has_bias ? dnnl::convolution_backward_weights::desc(
                             e.algo, operand_desc(d.src, e.bf16), any_desc(d.weight), e.bias,
                             operand_desc(d.dst, e.bf16), d.strides, d.dilation, d.pad_l, d.pad_r)
                       : dnnl::convolution_backward_weights::desc(
                             e.algo, operand_desc(d.src, e.bf16), any_desc(d.weight),
                             operand_desc(d.dst, e.bf16), d.strides, d.dilation, d.pad_l, d.pad_r);
  e.bwd_weights_pd.emplace(desc, cpu_engine(), e.fwd_pd);
  e.bwd_weights.emplace(*e.bwd_weights_pd);
}

// The weights in the layout `want`: the caller's plain buffer, or a reordered copy.
const float* weights_in(Entry& e, const float* weight, const memory::desc& want) {
  if (want == e.plain_weight) return weight;
  resize_to(e.weight_scratch, want.dims(), want);
  reorder(e.plain_weight, weight, want, e.weight_scratch.f32());
  return e.weight_scratch.f32();
}

// The weights scaled per output channel, in the forward's layout: one reorder
// with run-time scales (oneDNN's output scales over the output-channel
// dimensions), or a plain pass where the forward reads plain weights.
const float* folded_weights(Entry& e, const Conv2dGeometry& g, const float* weight,
                            const float* scale) {
  const memory::desc want = e.fwd_pd.weights_desc();
  resize_to(e.folded_weight, want.dims(), want);
  float* out = e.folded_weight.f32();
  if (want == e.plain_weight) {
    // Plain: each output channel's weights are contiguous, grouped or not.
    const int64_t channels = g.out_channels;
    const auto per_channel =
        static_cast<int64_t>(e.plain_weight.get_size() / sizeof(float)) / channels;
#pragma omp parallel for if (channels * per_channel > 65536)
    for (int64_t c = 0; c < channels; ++c) {
      for (int64_t k = 0; k < per_channel; ++k) {
        out[c * per_channel + k] = weight[c * per_channel + k] * scale[c];
      }
    }
    return out;
  }
  if (!e.scaled_reorder) {
    // Output channels are dimension 0 of OIHW, dimensions 0 and 1 of GOIHW.
    dnnl::primitive_attr attr;
    attr.set_output_scales(g.groups == 1 ? 1 : 3, {DNNL_RUNTIME_F32_VAL});
    e.scaled_reorder.emplace(
        dnnl::reorder::primitive_desc(cpu_engine(), e.plain_weight, cpu_engine(), want, attr));
  }
  const memory::desc scales_desc({g.out_channels}, memory::data_type::f32, Tag::x);
  execute(*e.scaled_reorder, {{DNNL_ARG_FROM, wrap(e.plain_weight, weight)},
                              {DNNL_ARG_TO, wrap(want, out)},
                              {DNNL_ARG_ATTR_OUTPUT_SCALES, wrap(scales_desc, scale)}});
  return out;
}

}  // namespace

struct Conv2dKernel::Impl {
  PrimitiveCache<Entry> cache;
  Entry& entry(const Conv2dGeometry& g, Pass pass = Pass::training) {
    auto key = g.key();
    key.push_back(static_cast<int64_t>(pass));
    return cache.get(key, [&] { return make_entry(g, pass); });
  }
};

Conv2dKernel::Conv2dKernel() : impl_(std::make_unique<Impl>()) {}
Conv2dKernel::~Conv2dKernel() = default;
Conv2dKernel::Conv2dKernel(Conv2dKernel&&) noexcept = default;
Conv2dKernel& Conv2dKernel::operator=(Conv2dKernel&&) noexcept = default;

void Conv2dKernel::forward(const Conv2dGeometry& g, const Tensor& src, const float* weight,
                           const float* bias, Tensor& dst, Pass pass, bool relu) {
  Entry& e = impl_->entry(g, pass);
  const auto& pd = e.fwd_pd;
  const float* x = in_layout(src, pd.src_desc(), e.src_scratch);
  e.src_reordered = x != src.f32();
  const float* w = weights_in(e, weight, pd.weights_desc());
  e.last_weights = w;
  resize_to(dst, e.dims.dst, pd.dst_desc());
  std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, wrap(pd.src_desc(), x)},
                                             {DNNL_ARG_WEIGHTS, wrap(pd.weights_desc(), w)},
                                             {DNNL_ARG_DST, wrap(pd.dst_desc(), dst.f32())}};
  if (g.has_bias) args.emplace(DNNL_ARG_BIAS, wrap(e.bias, bias));
  if (!relu) return execute(e.fwd, args);
  if (auto* fused = rectifying_forward(e, g, pass)) return execute(*fused, args);
  execute(e.fwd, args);
  // No fused kernel: rectify in place (channel padding holds zeros and stays so).
  float* y = dst.f32();
  const auto n = static_cast<int64_t>(dst.physical_bytes() / sizeof(float));
#pragma omp parallel for simd if (n > 65536)
  for (int64_t i = 0; i < n; ++i) y[i] = y[i] > 0.f ? y[i] : 0.f;
}

bool Conv2dKernel::forward_fused(const Conv2dGeometry& g, const Tensor& src, const float* weight,
                                 const float* bias, Tensor& dst, const ConvEpilogue& ep) {
  Entry& e = impl_->entry(g, Pass::inference);
  const auto& pd = e.fwd_pd;
  const Shape dst_shape(e.dims.dst.begin(), e.dims.dst.end());
  if (ep.residual != nullptr && ep.residual->shape() != dst_shape) return false;  // broadcasting
  const bool fold = ep.scale != nullptr;
  const bool with_bias = fold || g.has_bias;
  dnnl::convolution_forward* prim =
      fused_forward(e, Pass::inference, with_bias, ep.residual != nullptr, ep.relu);
  if (prim == nullptr) return false;
  const float* x = in_layout(src, pd.src_desc(), e.src_scratch);
  e.src_reordered = false;
  e.last_weights = nullptr;  // nothing kept for backward
  const float* w =
      fold ? folded_weights(e, g, weight, ep.scale) : weights_in(e, weight, pd.weights_desc());
  if (fold) {
    // bias = scale * bias + shift, per output channel.
    e.folded_bias.resize({g.out_channels});
    float* b = e.folded_bias.f32();
    for (int64_t c = 0; c < g.out_channels; ++c) {
      b[c] = (bias != nullptr ? bias[c] * ep.scale[c] : 0.f) +
             (ep.shift != nullptr ? ep.shift[c] : 0.f);
    }
    bias = b;
  }
  resize_to(dst, e.dims.dst, pd.dst_desc());
  std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, wrap(pd.src_desc(), x)},
                                             {DNNL_ARG_WEIGHTS, wrap(pd.weights_desc(), w)},
                                             {DNNL_ARG_DST, wrap(pd.dst_desc(), dst.f32())}};
  if (with_bias) args.emplace(DNNL_ARG_BIAS, wrap(e.bias, bias));
  if (ep.residual != nullptr) {
    const float* r = in_layout(*ep.residual, pd.dst_desc(), e.residual_scratch);
    args.emplace(DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, wrap(pd.dst_desc(), r));
  }
  execute(*prim, args);
  return true;
}

void Conv2dKernel::backward(const Conv2dGeometry& g, const Tensor& src, const Tensor& grad_dst,
                            Tensor* grad_src, float* grad_weight, float* grad_bias) {
  Entry& e = impl_->entry(g);
  BDL_CHECK(e.last_weights != nullptr,
            "Conv2d backward without a training forward of this shape (a forward for inference "
            "keeps nothing for backward)");
  ensure_backward_weights(e, g.has_bias);
  const auto& wpd = *e.bwd_weights_pd;
  const float* dy = in_layout(grad_dst, wpd.diff_dst_desc(), e.grad_dst_scratch);

  if (grad_src) {
    ensure_backward_data(e);
    const auto& dpd = *e.bwd_data_pd;
    const float* dy_data = dpd.diff_dst_desc() == wpd.diff_dst_desc()
                               ? dy
                               : in_layout(grad_dst, dpd.diff_dst_desc(), e.grad_dst_scratch2);
    // The forward's weight layout is usually the one backward wants; reorder if not.
    const float* w = e.last_weights;
    if (dpd.weights_desc() != e.fwd_pd.weights_desc()) {
      resize_to(e.weight_scratch2, dpd.weights_desc().dims(), dpd.weights_desc());
      reorder(e.fwd_pd.weights_desc(), w, dpd.weights_desc(), e.weight_scratch2.f32());
      w = e.weight_scratch2.f32();
    }
    resize_to(*grad_src, e.dims.src, dpd.diff_src_desc());
    execute(*e.bwd_data, {{DNNL_ARG_DIFF_DST, wrap(dpd.diff_dst_desc(), dy_data)},
                          {DNNL_ARG_WEIGHTS, wrap(dpd.weights_desc(), w)},
                          {DNNL_ARG_DIFF_SRC, wrap(dpd.diff_src_desc(), grad_src->f32())}});
  }

  // The input as forward reordered it, when backward wants the same layout.
  const float* x = e.src_reordered && wpd.src_desc() == e.fwd_pd.src_desc()
                       ? e.src_scratch.f32()
                       : in_layout(src, wpd.src_desc(), e.src_scratch);
  const bool plain_weights = wpd.diff_weights_desc() == e.plain_weight;
  float* dw = grad_weight;
  if (!plain_weights) {
    resize_to(e.grad_weight_scratch, wpd.diff_weights_desc().dims(), wpd.diff_weights_desc());
    dw = e.grad_weight_scratch.f32();
  }
  std::unordered_map<int, dnnl::memory> args{
      {DNNL_ARG_SRC, wrap(wpd.src_desc(), x)},
      {DNNL_ARG_DIFF_DST, wrap(wpd.diff_dst_desc(), dy)},
      {DNNL_ARG_DIFF_WEIGHTS, wrap(wpd.diff_weights_desc(), dw)}};
  if (g.has_bias) args.emplace(DNNL_ARG_DIFF_BIAS, wrap(e.bias, grad_bias));
  execute(*e.bwd_weights, args);
  if (!plain_weights) reorder(wpd.diff_weights_desc(), dw, e.plain_weight, grad_weight);
}

std::string Conv2dKernel::implementation(const Conv2dGeometry& g) {
  Entry& e = impl_->entry(g);
  ensure_backward_data(e);
  ensure_backward_weights(e, g.has_bias);
  return std::string("fwd=") + e.fwd_pd.impl_info_str() +
         " bwd_data=" + e.bwd_data_pd->impl_info_str() +
         " bwd_weights=" + e.bwd_weights_pd->impl_info_str();
}

}  // namespace bdl::kernels
