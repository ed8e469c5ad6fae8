#include "bdl/kernels/pooling.h"

#include <optional>

#include "bdl/core/error.h"
#include "kernels/dnnl_context.h"
#include "kernels/layout.h"

namespace bdl::kernels {

std::vector<int64_t> Pool2dGeometry::key() const {
  return {batch,
          channels,
          in_height,
          in_width,
          kernel_h,
          kernel_w,
          stride_h,
          stride_w,
          pad_top,
          pad_left,
          pad_bottom,
          pad_right,
          static_cast<int64_t>(kind)};
}

namespace {

dnnl::algorithm algorithm_of(PoolKind kind) {
  switch (kind) {
    case PoolKind::max:
      return dnnl::algorithm::pooling_max;
    case PoolKind::avg_include_padding:
      return dnnl::algorithm::pooling_avg_include_padding;
    case PoolKind::avg_exclude_padding:
      return dnnl::algorithm::pooling_avg_exclude_padding;
  }
  return dnnl::algorithm::pooling_max;
}

struct Entry {
  Pool2dGeometry geometry;
  Pass pass = Pass::training;
  dnnl::pooling_forward::primitive_desc fwd_pd;
  dnnl::pooling_forward fwd;
  std::optional<dnnl::pooling_backward::primitive_desc> bwd_pd;
  std::optional<dnnl::pooling_backward> bwd;
  Tensor workspace;  // raw bytes for max pooling's argmax
  Tensor src_scratch, grad_dst_scratch;
};

Entry make_entry(const Pool2dGeometry& g, const dnnl::memory::desc& src, Pass pass) {
  const dnnl::memory::desc dst({g.batch, g.channels, g.out_height(), g.out_width()},
                               dnnl::memory::data_type::f32, Tag::any);
  dnnl::pooling_forward::desc desc(prop_kind_of(pass), algorithm_of(g.kind), src, dst,
                                   {g.stride_h, g.stride_w}, {g.kernel_h, g.kernel_w},
                                   {g.pad_top, g.pad_left}, {g.pad_bottom, g.pad_right});
  Entry e;
  e.geometry = g;
  e.pass = pass;
  e.fwd_pd = dnnl::pooling_forward::primitive_desc(desc, cpu_engine());
  e.fwd = dnnl::pooling_forward(e.fwd_pd);
  // Max pooling keeps its argmax for backward, in training only.
  if (g.kind == PoolKind::max && pass == Pass::training) {
    const auto bytes = static_cast<int64_t>(e.fwd_pd.workspace_desc().get_size());
    e.workspace.resize({bytes}, DType::u8);
  }
  return e;
}

}  // namespace

struct Pool2dKernel::Impl {
  PrimitiveCache<Entry> cache;
  Entry* last = nullptr;
};

Pool2dKernel::Pool2dKernel() : impl_(std::make_unique<Impl>()) {}
Pool2dKernel::~Pool2dKernel() = default;
Pool2dKernel::Pool2dKernel(Pool2dKernel&&) noexcept = default;
Pool2dKernel& Pool2dKernel::operator=(Pool2dKernel&&) noexcept = default;

void Pool2dKernel::forward(const Pool2dGeometry& g, const Tensor& src, Tensor& dst, Pass pass) {
  const dnnl::memory::desc src_desc = run_desc(src);
  auto key = g.key();
  key.push_back(layout_id(src));
  key.push_back(static_cast<int64_t>(pass));
  Entry& e = impl_->cache.get(key, [&] { return make_entry(g, src_desc, pass); });
  impl_->last = &e;
  const float* x = in_layout(src, src_desc, e.src_scratch);
  resize_to(dst, {g.batch, g.channels, g.out_height(), g.out_width()}, e.fwd_pd.dst_desc());
  std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, wrap(e.fwd_pd.src_desc(), x)},
                                             {DNNL_ARG_DST, wrap(e.fwd_pd.dst_desc(), dst.f32())}};
  if (e.workspace.defined()) {
    args.emplace(DNNL_ARG_WORKSPACE, wrap(e.fwd_pd.workspace_desc(), e.workspace.raw_data()));
  }
  execute(e.fwd, args);
}

void Pool2dKernel::backward(const Pool2dGeometry& g, const Tensor& grad_dst, Tensor& grad_src) {
  Entry* e = impl_->last;
  BDL_CHECK(e != nullptr && e->geometry.key() == g.key(),
            "pooling backward without a forward of the same shape");
  BDL_CHECK(e->pass == Pass::training,
            "pooling backward after a forward for inference (set_inference(false) first)");
  if (!e->bwd) {
    dnnl::pooling_backward::desc desc(
        algorithm_of(g.kind), e->fwd_pd.src_desc(), e->fwd_pd.dst_desc(), {g.stride_h, g.stride_w},
        {g.kernel_h, g.kernel_w}, {g.pad_top, g.pad_left}, {g.pad_bottom, g.pad_right});
    e->bwd_pd.emplace(desc, cpu_engine(), e->fwd_pd);
    e->bwd.emplace(*e->bwd_pd);
  }
  const auto& pd = *e->bwd_pd;
  const float* dy = in_layout(grad_dst, pd.diff_dst_desc(), e->grad_dst_scratch);
  resize_to(grad_src, {g.batch, g.channels, g.in_height, g.in_width}, pd.diff_src_desc());
  std::unordered_map<int, dnnl::memory> args{
      {DNNL_ARG_DIFF_DST, wrap(pd.diff_dst_desc(), dy)},
      {DNNL_ARG_DIFF_SRC, wrap(pd.diff_src_desc(), grad_src.f32())}};
  if (e->workspace.defined()) {
    args.emplace(DNNL_ARG_WORKSPACE, wrap(pd.workspace_desc(), e->workspace.raw_data()));
  }
  execute(*e->bwd, args);
}

}  // namespace bdl::kernels
