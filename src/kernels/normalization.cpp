#include "bdl/kernels/normalization.h"

#include <optional>

#include "bdl/core/error.h"
#include "kernels/dnnl_context.h"
#include "kernels/layout.h"

namespace bdl::kernels {
namespace {

std::vector<int64_t> key_of(const Tensor& src, int64_t mode) {
  auto key = src.shape();
  key.push_back(layout_id(src));
  key.push_back(mode);
  return key;
}

using BnormFlags = dnnl::normalization_flags;

struct BnormEntry {
  dnnl::memory::desc data_d, stat_d;
  BnormFlags flags;
  dnnl::batch_normalization_forward::primitive_desc fwd_pd;
  dnnl::batch_normalization_forward fwd;
  std::optional<dnnl::batch_normalization_backward::primitive_desc> bwd_pd;
  std::optional<dnnl::batch_normalization_backward> bwd;
};

}  // namespace

struct BatchNormKernel::Impl {
  float eps;
  PrimitiveCache<BnormEntry> cache;
  BnormEntry* last = nullptr;
  Tensor src_scratch, grad_dst_scratch;

  BnormEntry& entry(const Tensor& src, bool training, bool affine) {
    const dnnl::memory::desc d = run_desc(src);
    BDL_CHECK(src.dim() == 4, "batch norm kernel needs a 4-d tensor, got ", src.shape_str());
    return cache.get(key_of(src, (training ? 2 : 0) + (affine ? 1 : 0)), [&] {
      auto flags = static_cast<BnormFlags>(0);
      if (affine) flags = BnormFlags::use_scale | BnormFlags::use_shift;
      if (!training) flags = flags | BnormFlags::use_global_stats;
      dnnl::batch_normalization_forward::desc desc(
          training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference, d, eps,
          flags);
      dnnl::batch_normalization_forward::primitive_desc pd(desc, cpu_engine());
      return BnormEntry{d,  f32_desc({src.size(1)}, Tag::a),       flags,
                        pd, dnnl::batch_normalization_forward(pd), {},
                        {}};
    });
  }

  void run(BnormEntry& e, const Tensor& src, const float* scale, const float* shift,
           const float* mean, const float* variance, Tensor& dst) {
    last = &e;
    const float* x = in_layout(src, e.data_d, src_scratch);
    resize_to(dst, src.shape(), e.fwd_pd.dst_desc());
    std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, wrap(e.data_d, x)},
                                               {DNNL_ARG_DST, wrap(e.fwd_pd.dst_desc(), dst.f32())},
                                               {DNNL_ARG_MEAN, wrap(e.stat_d, mean)},
                                               {DNNL_ARG_VARIANCE, wrap(e.stat_d, variance)}};
    if (scale) {
      args.emplace(DNNL_ARG_SCALE, wrap(e.stat_d, scale));
      args.emplace(DNNL_ARG_SHIFT, wrap(e.stat_d, shift));
    }
    execute(e.fwd, args);
  }
};

BatchNormKernel::BatchNormKernel(float eps) : impl_(std::make_unique<Impl>()) { impl_->eps = eps; }
BatchNormKernel::~BatchNormKernel() = default;
BatchNormKernel::BatchNormKernel(BatchNormKernel&&) noexcept = default;
BatchNormKernel& BatchNormKernel::operator=(BatchNormKernel&&) noexcept = default;

void BatchNormKernel::forward_training(const Tensor& src, const float* scale, const float* shift,
                                       float* mean, float* variance, Tensor& dst) {
  BnormEntry& e = impl_->entry(src, true, scale != nullptr);
  impl_->run(e, src, scale, shift, mean, variance, dst);
}

void BatchNormKernel::forward_inference(const Tensor& src, const float* scale, const float* shift,
                                        const float* mean, const float* variance, Tensor& dst) {
  BnormEntry& e = impl_->entry(src, false, scale != nullptr);
  impl_->run(e, src, scale, shift, mean, variance, dst);
}

void BatchNormKernel::backward(const Tensor& src, const Tensor& grad_dst, const float* scale,
                               const float* shift, const float* mean, const float* variance,
                               Tensor& grad_src, float* grad_scale, float* grad_shift) {
  BnormEntry* e = impl_->last;
  BDL_CHECK(e != nullptr && e->data_d.dims() == src.shape(),
            "batch norm backward without a forward of the same shape");
  const bool affine = scale != nullptr;
  if (!e->bwd) {
    dnnl::batch_normalization_backward::desc desc(
        affine ? dnnl::prop_kind::backward : dnnl::prop_kind::backward_data, e->fwd_pd.dst_desc(),
        e->data_d, impl_->eps, e->flags);
    e->bwd_pd.emplace(desc, cpu_engine(), e->fwd_pd);
    e->bwd.emplace(*e->bwd_pd);
  }
  const auto& pd = *e->bwd_pd;
  const float* x = in_layout(src, e->data_d, impl_->src_scratch);
  const float* dy = in_layout(grad_dst, pd.diff_dst_desc(), impl_->grad_dst_scratch);
  resize_to(grad_src, src.shape(), pd.diff_src_desc());
  std::unordered_map<int, dnnl::memory> args{
      {DNNL_ARG_SRC, wrap(e->data_d, x)},
      {DNNL_ARG_DIFF_DST, wrap(pd.diff_dst_desc(), dy)},
      {DNNL_ARG_MEAN, wrap(e->stat_d, mean)},
      {DNNL_ARG_VARIANCE, wrap(e->stat_d, variance)},
      {DNNL_ARG_DIFF_SRC, wrap(pd.diff_src_desc(), grad_src.f32())}};
  if (affine) {
    // oneDNN 2.6 asks for the shift too, although the gradient does not use it.
    args.emplace(DNNL_ARG_SCALE, wrap(e->stat_d, scale));
    args.emplace(DNNL_ARG_SHIFT, wrap(e->stat_d, shift));
    args.emplace(DNNL_ARG_DIFF_SCALE, wrap(e->stat_d, grad_scale));
    args.emplace(DNNL_ARG_DIFF_SHIFT, wrap(e->stat_d, grad_shift));
  }
  execute(*e->bwd, args);
}

namespace {

struct LrnEntry {
  Pass pass;
  dnnl::memory::desc data_d;
  dnnl::lrn_forward::primitive_desc fwd_pd;
  dnnl::lrn_forward fwd;
  std::optional<dnnl::lrn_backward::primitive_desc> bwd_pd;
  std::optional<dnnl::lrn_backward> bwd;
  Tensor workspace;
};

}  // namespace

struct LrnKernel::Impl {
  int64_t size;
  float alpha, beta, k;
  PrimitiveCache<LrnEntry> cache;
  LrnEntry* last = nullptr;
  Tensor src_scratch, grad_dst_scratch;
};

LrnKernel::LrnKernel(int64_t size, float alpha, float beta, float k)
    : impl_(std::make_unique<Impl>()) {
  impl_->size = size;
  impl_->alpha = alpha;
  impl_->beta = beta;
  impl_->k = k;
}
LrnKernel::~LrnKernel() = default;
LrnKernel::LrnKernel(LrnKernel&&) noexcept = default;
LrnKernel& LrnKernel::operator=(LrnKernel&&) noexcept = default;

void LrnKernel::forward(const Tensor& src, Tensor& dst, Pass pass) {
  BDL_CHECK(src.dim() == 4, "LRN kernel needs a 4-d tensor, got ", src.shape_str());
  const dnnl::memory::desc d = run_desc(src);
  auto& impl = *impl_;
  LrnEntry& e = impl.cache.get(key_of(src, static_cast<int64_t>(pass)), [&] {
    // oneDNN divides alpha by the window size, as PyTorch and ONNX do.
    dnnl::lrn_forward::desc desc(prop_kind_of(pass), dnnl::algorithm::lrn_across_channels, d,
                                 impl.size, impl.alpha, impl.beta, impl.k);
    dnnl::lrn_forward::primitive_desc pd(desc, cpu_engine());
    LrnEntry entry{pass, d, pd, dnnl::lrn_forward(pd), {}, {}, {}};
    entry.workspace.resize({static_cast<int64_t>(pd.workspace_desc().get_size())}, DType::u8);
    return entry;
  });
  impl.last = &e;
  const float* x = in_layout(src, e.data_d, impl.src_scratch);
  resize_to(dst, src.shape(), e.fwd_pd.dst_desc());
  std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, wrap(e.data_d, x)},
                                             {DNNL_ARG_DST, wrap(e.fwd_pd.dst_desc(), dst.f32())}};
  if (e.workspace.numel() > 0) {
    args.emplace(DNNL_ARG_WORKSPACE, wrap(e.fwd_pd.workspace_desc(), e.workspace.raw_data()));
  }
  execute(e.fwd, args);
}

void LrnKernel::backward(const Tensor& src, const Tensor& grad_dst, Tensor& grad_src) {
  LrnEntry* e = impl_->last;
  BDL_CHECK(e != nullptr && e->data_d.dims() == src.shape(),
            "LRN backward without a forward of the same shape");
  BDL_CHECK(e->pass == Pass::training,
            "LRN backward after a forward for inference (set_inference(false) first)");
  if (!e->bwd) {
    dnnl::lrn_backward::desc desc(dnnl::algorithm::lrn_across_channels, e->data_d,
                                  e->fwd_pd.dst_desc(), impl_->size, impl_->alpha, impl_->beta,
                                  impl_->k);
    e->bwd_pd.emplace(desc, cpu_engine(), e->fwd_pd);
    e->bwd.emplace(*e->bwd_pd);
  }
  const auto& pd = *e->bwd_pd;
  const float* x = in_layout(src, e->data_d, impl_->src_scratch);
  const float* dy = in_layout(grad_dst, pd.diff_dst_desc(), impl_->grad_dst_scratch);
  resize_to(grad_src, src.shape(), pd.diff_src_desc());
  std::unordered_map<int, dnnl::memory> args{
      {DNNL_ARG_SRC, wrap(e->data_d, x)},
      {DNNL_ARG_DIFF_DST, wrap(pd.diff_dst_desc(), dy)},
      {DNNL_ARG_DIFF_SRC, wrap(pd.diff_src_desc(), grad_src.f32())}};
  if (e->workspace.numel() > 0) {
    args.emplace(DNNL_ARG_WORKSPACE, wrap(pd.workspace_desc(), e->workspace.raw_data()));
  }
  execute(*e->bwd, args);
}

}  // namespace bdl::kernels
