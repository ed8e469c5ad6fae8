#include "bdl/kernels/eltwise.h"

#include <optional>

#include "kernels/dnnl_context.h"
#include "kernels/layout.h"

namespace bdl::kernels {
namespace {

dnnl::algorithm algorithm_of(Eltwise kind) {
  switch (kind) {
    case Eltwise::relu:
      return dnnl::algorithm::eltwise_relu;
    case Eltwise::elu:
      return dnnl::algorithm::eltwise_elu;
    case Eltwise::tanh:
      return dnnl::algorithm::eltwise_tanh;
    case Eltwise::sigmoid:
      return dnnl::algorithm::eltwise_logistic;
    case Eltwise::gelu_erf:
      return dnnl::algorithm::eltwise_gelu_erf;
    case Eltwise::gelu_tanh:
      return dnnl::algorithm::eltwise_gelu_tanh;
    case Eltwise::clip:
      // clip_v2: gradient 1 strictly between the bounds, as PyTorch's hardtanh.
      return dnnl::algorithm::eltwise_clip_v2;
  }
  return dnnl::algorithm::eltwise_relu;
}

struct EltwiseEntry {
  dnnl::memory::desc data_d;
  dnnl::eltwise_forward::primitive_desc fwd_pd;
  dnnl::eltwise_forward fwd;
  std::optional<dnnl::eltwise_backward> bwd;
  dnnl::memory a, b, c;
};

struct SoftmaxEntry {
  dnnl::memory::desc data_d;
  dnnl::softmax_v2_forward::primitive_desc fwd_pd;
  dnnl::softmax_v2_forward fwd;
  std::optional<dnnl::softmax_v2_backward> bwd;
  dnnl::memory a, b, c;
};

}  // namespace

struct EltwiseKernel::Impl {
  dnnl::algorithm algorithm;
  float alpha, beta;
  PrimitiveCache<EltwiseEntry> cache;
  Tensor src_scratch, grad_dst_scratch;

  EltwiseEntry& entry(const Tensor& src, const dnnl::memory::desc& d, Pass pass) {
    auto key = src.shape();
    key.push_back(layout_id(src));
    key.push_back(static_cast<int64_t>(pass));
    return cache.get(key, [&] {
      dnnl::eltwise_forward::desc desc(prop_kind_of(pass), algorithm, d, alpha, beta);
      dnnl::eltwise_forward::primitive_desc pd(desc, cpu_engine());
      return EltwiseEntry{d, pd, dnnl::eltwise_forward(pd), {}, {}, {}, {}};
    });
  }
};

EltwiseKernel::EltwiseKernel(Eltwise kind, float alpha, float beta)
    : impl_(std::make_unique<Impl>(Impl{algorithm_of(kind), alpha, beta, {}, {}, {}})) {}
EltwiseKernel::~EltwiseKernel() = default;
EltwiseKernel::EltwiseKernel(EltwiseKernel&&) noexcept = default;
EltwiseKernel& EltwiseKernel::operator=(EltwiseKernel&&) noexcept = default;

void EltwiseKernel::forward(const Tensor& src, Tensor& dst, Pass pass) {
  const auto d = run_desc(src);
  EltwiseEntry& e = impl_->entry(src, d, pass);
  const float* x = in_layout(src, d, impl_->src_scratch);
  resize_to(dst, src.shape(), d);
  execute(e.fwd, {{DNNL_ARG_SRC, dnnl::memory(d, cpu_engine(), const_cast<float*>(x))},
                  {DNNL_ARG_DST, dnnl::memory(d, cpu_engine(), dst.f32())}});
}

void EltwiseKernel::backward(const Tensor& src, const Tensor& grad_dst, Tensor& grad_src) {
  const auto d = run_desc(src);
  EltwiseEntry& e = impl_->entry(src, d, Pass::training);
  if (!e.bwd) {
    dnnl::eltwise_backward::desc desc(impl_->algorithm, d, d, impl_->alpha, impl_->beta);
    e.bwd.emplace(dnnl::eltwise_backward::primitive_desc(desc, cpu_engine(), e.fwd_pd));
  }
  const float* x = in_layout(src, d, impl_->src_scratch);
  const float* dy = in_layout(grad_dst, d, impl_->grad_dst_scratch);
  resize_to(grad_src, src.shape(), d);
  execute(*e.bwd, {{DNNL_ARG_SRC, dnnl::memory(d, cpu_engine(), const_cast<float*>(x))},
                   {DNNL_ARG_DIFF_DST, dnnl::memory(d, cpu_engine(), const_cast<float*>(dy))},
                   {DNNL_ARG_DIFF_SRC, dnnl::memory(d, cpu_engine(), grad_src.f32())}});
}

struct SoftmaxKernel::Impl {
  dnnl::algorithm algorithm;
  PrimitiveCache<SoftmaxEntry> cache;

  SoftmaxEntry& entry(int64_t outer, int64_t axis, int64_t inner, Pass pass) {
    return cache.get({outer, axis, inner, static_cast<int64_t>(pass)}, [&] {
      auto d = f32_desc({outer, axis, inner}, Tag::abc);
      dnnl::softmax_v2_forward::desc desc(prop_kind_of(pass), algorithm, d, d, 1);
      dnnl::softmax_v2_forward::primitive_desc pd(desc, cpu_engine());
      return SoftmaxEntry{d,
                          pd,
                          dnnl::softmax_v2_forward(pd),
                          {},
                          plain_memory(d),
                          plain_memory(d),
                          plain_memory(d)};
    });
  }
};

SoftmaxKernel::SoftmaxKernel(bool log)
    : impl_(std::make_unique<Impl>(
          Impl{log ? dnnl::algorithm::softmax_log : dnnl::algorithm::softmax_accurate, {}})) {}
SoftmaxKernel::~SoftmaxKernel() = default;
SoftmaxKernel::SoftmaxKernel(SoftmaxKernel&&) noexcept = default;
SoftmaxKernel& SoftmaxKernel::operator=(SoftmaxKernel&&) noexcept = default;

void SoftmaxKernel::forward(int64_t outer, int64_t axis, int64_t inner, const float* src,
                            float* dst, Pass pass) {
  SoftmaxEntry& e = impl_->entry(outer, axis, inner, pass);
  bind(e.a, src);
  bind(e.b, dst);
  execute(e.fwd, {{DNNL_ARG_SRC, e.a}, {DNNL_ARG_DST, e.b}});
}

void SoftmaxKernel::backward(int64_t outer, int64_t axis, int64_t inner, const float* dst,
                             const float* grad_dst, float* grad_src) {
  SoftmaxEntry& e = impl_->entry(outer, axis, inner, Pass::training);
  if (!e.bwd) {
    dnnl::softmax_v2_backward::desc desc(impl_->algorithm, e.data_d, e.data_d, e.data_d, 1);
    e.bwd.emplace(dnnl::softmax_v2_backward::primitive_desc(desc, cpu_engine(), e.fwd_pd));
  }
  bind(e.a, dst);
  bind(e.b, grad_dst);
  bind(e.c, grad_src);
  execute(*e.bwd, {{DNNL_ARG_DST, e.a}, {DNNL_ARG_DIFF_DST, e.b}, {DNNL_ARG_DIFF_SRC, e.c}});
}

}  // namespace bdl::kernels
