#include "kernels/pooling.h"

#include <optional>

#include "bdl/core/error.h"
#include "kernels/dnnl_context.h"

namespace bdl::kernels {

std::vector<int64_t> Pool2dGeometry::key() const {
  return {batch,    channels, in_height, in_width,   kernel_h,  kernel_w,
          stride_h, stride_w, pad_top,   pad_left,   pad_bottom, pad_right,
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
  dnnl::memory::desc src_d, dst_d;
  dnnl::pooling_forward::primitive_desc fwd_pd;
  dnnl::pooling_forward fwd;
  std::optional<dnnl::pooling_backward> bwd;
  dnnl::memory src, dst, workspace;
  bool has_workspace = false;
};

Entry make_entry(const Pool2dGeometry& g) {
  auto src_d = f32_desc({g.batch, g.channels, g.in_height, g.in_width}, Tag::nchw);
  auto dst_d = f32_desc({g.batch, g.channels, g.out_height(), g.out_width()}, Tag::nchw);
  dnnl::pooling_forward::desc desc(dnnl::prop_kind::forward_training, algorithm_of(g.kind), src_d,
                                   dst_d, {g.stride_h, g.stride_w}, {g.kernel_h, g.kernel_w},
                                   {g.pad_top, g.pad_left}, {g.pad_bottom, g.pad_right});
  dnnl::pooling_forward::primitive_desc pd(desc, cpu_engine());
  Entry e{src_d, dst_d, pd, dnnl::pooling_forward(pd), {}, plain_memory(src_d),
          plain_memory(dst_d), dnnl::memory(), false};
  if (g.kind == PoolKind::max) {
    e.workspace = dnnl::memory(pd.workspace_desc(), cpu_engine());
    e.has_workspace = true;
  }
  return e;
}

}  // namespace

struct Pool2dKernel::Impl {
  PrimitiveCache<Entry> cache;
};

Pool2dKernel::Pool2dKernel() : impl_(std::make_unique<Impl>()) {}
Pool2dKernel::~Pool2dKernel() = default;
Pool2dKernel::Pool2dKernel(Pool2dKernel&&) noexcept = default;
Pool2dKernel& Pool2dKernel::operator=(Pool2dKernel&&) noexcept = default;

void Pool2dKernel::forward(const Pool2dGeometry& g, const float* src, float* dst) {
  Entry& e = impl_->cache.get(g.key(), [&] { return make_entry(g); });
  bind(e.src, src);
  bind(e.dst, dst);
  std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, e.src}, {DNNL_ARG_DST, e.dst}};
  if (e.has_workspace) args.emplace(DNNL_ARG_WORKSPACE, e.workspace);
  execute(e.fwd, args);
}

void Pool2dKernel::backward(const Pool2dGeometry& g, const float* grad_dst, float* grad_src) {
  Entry& e = impl_->cache.get(g.key(), [&] { return make_entry(g); });
  if (!e.bwd) {
    dnnl::pooling_backward::desc desc(algorithm_of(g.kind), e.src_d, e.dst_d,
                                      {g.stride_h, g.stride_w}, {g.kernel_h, g.kernel_w},
                                      {g.pad_top, g.pad_left}, {g.pad_bottom, g.pad_right});
    dnnl::pooling_backward::primitive_desc pd(desc, cpu_engine(), e.fwd_pd);
    e.bwd.emplace(pd);
  }
  bind(e.dst, grad_dst);
  bind(e.src, grad_src);
  std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_DIFF_DST, e.dst},
                                             {DNNL_ARG_DIFF_SRC, e.src}};
  if (e.has_workspace) args.emplace(DNNL_ARG_WORKSPACE, e.workspace);
  execute(*e.bwd, args);
}

}  // namespace bdl::kernels
