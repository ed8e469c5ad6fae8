#include "kernels/conv2d.h"

#include <optional>

#include "kernels/dnnl_context.h"

namespace bdl::kernels {

using dnnl::algorithm;
using dnnl::prop_kind;

std::vector<int64_t> Conv2dGeometry::key() const {
  return {batch,  in_channels, in_height, in_width, out_channels, kernel_h,   kernel_w,
          stride_h, stride_w,  pad_top,   pad_left, pad_bottom,   pad_right,  dilation_h,
          dilation_w, groups,  has_bias ? 1 : 0};
}

namespace {

struct Descs {
  dnnl::memory::desc src, weight, bias, dst;
  Dims strides, dilation, pad_l, pad_r;
};

Descs make_descs(const Conv2dGeometry& g) {
  Descs d;
  d.src = f32_desc({g.batch, g.in_channels, g.in_height, g.in_width}, Tag::nchw);
  d.dst = f32_desc({g.batch, g.out_channels, g.out_height(), g.out_width()}, Tag::nchw);
  if (g.groups == 1) {
    d.weight = f32_desc({g.out_channels, g.in_channels, g.kernel_h, g.kernel_w}, Tag::oihw);
  } else {
    d.weight = f32_desc({g.groups, g.out_channels / g.groups, g.in_channels / g.groups,
                         g.kernel_h, g.kernel_w},
                        Tag::goihw);
  }
  d.bias = g.has_bias ? f32_desc({g.out_channels}, Tag::x) : dnnl::memory::desc();
  d.strides = {g.stride_h, g.stride_w};
  d.dilation = {g.dilation_h - 1, g.dilation_w - 1};
  d.pad_l = {g.pad_top, g.pad_left};
  d.pad_r = {g.pad_bottom, g.pad_right};
  return d;
}

struct Entry {
  Descs descs;
  dnnl::convolution_forward::primitive_desc fwd_pd;
  dnnl::convolution_forward fwd;
  std::optional<dnnl::convolution_backward_data> bwd_data;
  std::optional<dnnl::convolution_backward_weights> bwd_weights;
  std::string bwd_data_impl, bwd_weights_impl;
  dnnl::memory src, weight, bias, dst, grad_src, grad_weight, grad_bias, grad_dst;
};

Entry make_entry(const Conv2dGeometry& g) {
  Descs d = make_descs(g);
  dnnl::convolution_forward::desc desc =
      g.has_bias ? dnnl::convolution_forward::desc(prop_kind::forward_training,
                                                   algorithm::convolution_direct, d.src,
                                                   d.weight, d.bias, d.dst, d.strides, d.dilation,
                                                   d.pad_l, d.pad_r)
                 : dnnl::convolution_forward::desc(prop_kind::forward_training,
                                                   algorithm::convolution_direct, d.src,
                                                   d.weight, d.dst, d.strides, d.dilation,
                                                   d.pad_l, d.pad_r);
  dnnl::convolution_forward::primitive_desc pd(desc, cpu_engine());
  Entry e{d, pd, dnnl::convolution_forward(pd), {}, {}, {}, {},
          plain_memory(d.src), plain_memory(d.weight), dnnl::memory(), plain_memory(d.dst),
          plain_memory(d.src), plain_memory(d.weight), dnnl::memory(), plain_memory(d.dst)};
  if (g.has_bias) {
    e.bias = plain_memory(d.bias);
    e.grad_bias = plain_memory(d.bias);
  }
  return e;
}

void ensure_backward_data(Entry& e) {
  if (e.bwd_data) return;
  const Descs& d = e.descs;
  dnnl::convolution_backward_data::desc desc(algorithm::convolution_direct, d.src, d.weight, d.dst,
                                             d.strides, d.dilation, d.pad_l, d.pad_r);
  dnnl::convolution_backward_data::primitive_desc pd(desc, cpu_engine(), e.fwd_pd);
  e.bwd_data_impl = pd.impl_info_str();
  e.bwd_data.emplace(pd);
}

void ensure_backward_weights(Entry& e, bool has_bias) {
  if (e.bwd_weights) return;
  const Descs& d = e.descs;
  auto desc = has_bias ? dnnl::convolution_backward_weights::desc(
                             algorithm::convolution_direct, d.src, d.weight, d.bias, d.dst,
                             d.strides, d.dilation, d.pad_l, d.pad_r)
                       : dnnl::convolution_backward_weights::desc(
                             algorithm::convolution_direct, d.src, d.weight, d.dst, d.strides,
                             d.dilation, d.pad_l, d.pad_r);
  dnnl::convolution_backward_weights::primitive_desc pd(desc, cpu_engine(), e.fwd_pd);
  e.bwd_weights_impl = pd.impl_info_str();
  e.bwd_weights.emplace(pd);
}

}  // namespace

struct Conv2dKernel::Impl {
  PrimitiveCache<Entry> cache;
  Entry& entry(const Conv2dGeometry& g) {
    return cache.get(g.key(), [&] { return make_entry(g); });
  }
};

Conv2dKernel::Conv2dKernel() : impl_(std::make_unique<Impl>()) {}
Conv2dKernel::~Conv2dKernel() = default;
Conv2dKernel::Conv2dKernel(Conv2dKernel&&) noexcept = default;
Conv2dKernel& Conv2dKernel::operator=(Conv2dKernel&&) noexcept = default;

void Conv2dKernel::forward(const Conv2dGeometry& g, const float* src, const float* weight,
                           const float* bias, float* dst) {
  Entry& e = impl_->entry(g);
  bind(e.src, src);
  bind(e.weight, weight);
  bind(e.dst, dst);
  std::unordered_map<int, dnnl::memory> args{
      {DNNL_ARG_SRC, e.src}, {DNNL_ARG_WEIGHTS, e.weight}, {DNNL_ARG_DST, e.dst}};
  if (g.has_bias) {
    bind(e.bias, bias);
    args.emplace(DNNL_ARG_BIAS, e.bias);
  }
  execute(e.fwd, args);
}

void Conv2dKernel::backward_data(const Conv2dGeometry& g, const float* grad_dst,
                                 const float* weight, float* grad_src) {
  Entry& e = impl_->entry(g);
  ensure_backward_data(e);
  bind(e.grad_dst, grad_dst);
  bind(e.weight, weight);
  bind(e.grad_src, grad_src);
  execute(*e.bwd_data, {{DNNL_ARG_DIFF_DST, e.grad_dst},
                        {DNNL_ARG_WEIGHTS, e.weight},
                        {DNNL_ARG_DIFF_SRC, e.grad_src}});
}

void Conv2dKernel::backward_weights(const Conv2dGeometry& g, const float* src,
                                    const float* grad_dst, float* grad_weight, float* grad_bias) {
  Entry& e = impl_->entry(g);
  ensure_backward_weights(e, g.has_bias);
  bind(e.src, src);
  bind(e.grad_dst, grad_dst);
  bind(e.grad_weight, grad_weight);
  std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, e.src},
                                             {DNNL_ARG_DIFF_DST, e.grad_dst},
                                             {DNNL_ARG_DIFF_WEIGHTS, e.grad_weight}};
  if (g.has_bias) {
    bind(e.grad_bias, grad_bias);
    args.emplace(DNNL_ARG_DIFF_BIAS, e.grad_bias);
  }
  execute(*e.bwd_weights, args);
}

std::string Conv2dKernel::implementation(const Conv2dGeometry& g) {
  Entry& e = impl_->entry(g);
  ensure_backward_data(e);
  ensure_backward_weights(e, g.has_bias);
  return std::string("fwd=") + e.fwd_pd.impl_info_str() + " bwd_data=" + e.bwd_data_impl +
         " bwd_weights=" + e.bwd_weights_impl;
}

}  // namespace bdl::kernels
