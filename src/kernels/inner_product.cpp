#include "bdl/kernels/inner_product.h"

#include <optional>

#include "kernels/dnnl_context.h"

namespace bdl::kernels {
namespace {

struct Entry {
  dnnl::memory::desc src_d, weight_d, bias_d, dst_d;
  dnnl::inner_product_forward::primitive_desc fwd_pd;
  dnnl::inner_product_forward fwd;
  std::optional<dnnl::inner_product_backward_data> bwd_data;
  std::optional<dnnl::inner_product_backward_weights> bwd_weights;
  std::string bwd_data_impl, bwd_weights_impl;
  dnnl::memory src, weight, bias, dst;
};

Entry make_entry(int64_t batch, int64_t in, int64_t out, bool has_bias, dnnl::prop_kind kind) {
  auto src_d = f32_desc({batch, in}, Tag::nc);
  auto weight_d = f32_desc({out, in}, Tag::oi);
  auto bias_d = has_bias ? f32_desc({out}, Tag::x) : dnnl::memory::desc();
  auto dst_d = f32_desc({batch, out}, Tag::nc);
  auto desc = has_bias ? dnnl::inner_product_forward::desc(kind, src_d, weight_d, bias_d, dst_d)
                       : dnnl::inner_product_forward::desc(kind, src_d, weight_d, dst_d);
  dnnl::inner_product_forward::primitive_desc pd(desc, cpu_engine());
  Entry e{src_d,
          weight_d,
          bias_d,
          dst_d,
          pd,
          dnnl::inner_product_forward(pd),
          {},
          {},
          {},
          {},
          plain_memory(src_d),
          plain_memory(weight_d),
          dnnl::memory(),
          plain_memory(dst_d)};
  if (has_bias) e.bias = plain_memory(bias_d);
  return e;
}

}  // namespace

struct InnerProductKernel::Impl {
  PrimitiveCache<Entry> cache;
  Entry& entry(int64_t batch, int64_t in, int64_t out, bool has_bias, Pass pass = Pass::training) {
    return cache.get({batch, in, out, has_bias ? 1 : 0, static_cast<int64_t>(pass)},
                     [&] { return make_entry(batch, in, out, has_bias, prop_kind_of(pass)); });
  }
  void ensure_backward_data(Entry& e) {
    if (e.bwd_data) return;
    dnnl::inner_product_backward_data::desc desc(e.src_d, e.weight_d, e.dst_d);
    dnnl::inner_product_backward_data::primitive_desc pd(desc, cpu_engine(), e.fwd_pd);
    e.bwd_data_impl = pd.impl_info_str();
    e.bwd_data.emplace(pd);
  }
  void ensure_backward_weights(Entry& e, bool has_bias) {
    if (e.bwd_weights) return;
    auto desc = has_bias ? dnnl::inner_product_backward_weights::desc(e.src_d, e.weight_d, e.bias_d,
                                                                      e.dst_d)
                         : dnnl::inner_product_backward_weights::desc(e.src_d, e.weight_d, e.dst_d);
    dnnl::inner_product_backward_weights::primitive_desc pd(desc, cpu_engine(), e.fwd_pd);
    e.bwd_weights_impl = pd.impl_info_str();
    e.bwd_weights.emplace(pd);
  }
};

InnerProductKernel::InnerProductKernel() : impl_(std::make_unique<Impl>()) {}
InnerProductKernel::~InnerProductKernel() = default;
InnerProductKernel::InnerProductKernel(InnerProductKernel&&) noexcept = default;
InnerProductKernel& InnerProductKernel::operator=(InnerProductKernel&&) noexcept = default;

void InnerProductKernel::forward(int64_t batch, int64_t in, int64_t out, bool has_bias,
                                 const float* src, const float* weight, const float* bias,
                                 float* dst, Pass pass) {
  Entry& e = impl_->entry(batch, in, out, has_bias, pass);
  bind(e.src, src);
  bind(e.weight, weight);
  bind(e.dst, dst);
  std::unordered_map<int, dnnl::memory> args{
      {DNNL_ARG_SRC, e.src}, {DNNL_ARG_WEIGHTS, e.weight}, {DNNL_ARG_DST, e.dst}};
  if (has_bias) {
    bind(e.bias, bias);
    args.emplace(DNNL_ARG_BIAS, e.bias);
  }
  execute(e.fwd, args);
}

void InnerProductKernel::backward_data(int64_t batch, int64_t in, int64_t out,
                                       const float* grad_dst, const float* weight,
                                       float* grad_src) {
  Entry& e = impl_->entry(batch, in, out, true);
  impl_->ensure_backward_data(e);
  // src/dst memories double as diff_src/diff_dst: same descriptors, new handles.
  bind(e.dst, grad_dst);
  bind(e.weight, weight);
  bind(e.src, grad_src);
  execute(*e.bwd_data,
          {{DNNL_ARG_DIFF_DST, e.dst}, {DNNL_ARG_WEIGHTS, e.weight}, {DNNL_ARG_DIFF_SRC, e.src}});
}

void InnerProductKernel::backward_weights(int64_t batch, int64_t in, int64_t out, bool has_bias,
                                          const float* src, const float* grad_dst,
                                          float* grad_weight, float* grad_bias) {
  Entry& e = impl_->entry(batch, in, out, has_bias);
  impl_->ensure_backward_weights(e, has_bias);
  bind(e.src, src);
  bind(e.dst, grad_dst);
  bind(e.weight, grad_weight);
  std::unordered_map<int, dnnl::memory> args{
      {DNNL_ARG_SRC, e.src}, {DNNL_ARG_DIFF_DST, e.dst}, {DNNL_ARG_DIFF_WEIGHTS, e.weight}};
  if (has_bias) {
    bind(e.bias, grad_bias);
    args.emplace(DNNL_ARG_DIFF_BIAS, e.bias);
  }
  execute(*e.bwd_weights, args);
}

std::string InnerProductKernel::implementation(int64_t batch, int64_t in, int64_t out,
                                               bool has_bias) {
  Entry& e = impl_->entry(batch, in, out, has_bias);
  impl_->ensure_backward_data(e);
  impl_->ensure_backward_weights(e, has_bias);
  return std::string("fwd=") + e.fwd_pd.impl_info_str() + " bwd_data=" + e.bwd_data_impl +
         " bwd_weights=" + e.bwd_weights_impl;
}

}  // namespace bdl::kernels
