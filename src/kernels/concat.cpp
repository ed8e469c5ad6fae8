#include "bdl/kernels/concat.h"

#include "bdl/core/error.h"
#include "kernels/dnnl_context.h"
#include "kernels/layout.h"

namespace bdl::kernels {
namespace {

struct Entry {
  std::vector<dnnl::memory::desc> src_descs;
  dnnl::concat::primitive_desc pd;
  dnnl::concat primitive;
};

}  // namespace

struct ConcatKernel::Impl {
  PrimitiveCache<Entry> cache;
  std::vector<Tensor> src_scratch;
  Tensor grad_dst_scratch;
};

ConcatKernel::ConcatKernel() : impl_(std::make_unique<Impl>()) {}
ConcatKernel::~ConcatKernel() = default;
ConcatKernel::ConcatKernel(ConcatKernel&&) noexcept = default;
ConcatKernel& ConcatKernel::operator=(ConcatKernel&&) noexcept = default;

void ConcatKernel::forward(const std::vector<const Tensor*>& srcs, int64_t axis, Tensor& dst) {
  BDL_CHECK(!srcs.empty(), "concat of no tensors");
  std::vector<int64_t> key{axis};
  Shape out = srcs[0]->shape();
  out[static_cast<size_t>(axis)] = 0;
  for (const Tensor* s : srcs) {
    key.insert(key.end(), s->shape().begin(), s->shape().end());
    key.push_back(layout_id(*s));
    out[static_cast<size_t>(axis)] += s->size(axis);
  }
  Entry& e = impl_->cache.get(key, [&] {
    std::vector<dnnl::memory::desc> descs;
    descs.reserve(srcs.size());
    for (const Tensor* s : srcs) descs.push_back(run_desc(*s));
    // Blocked inputs whose channel counts do not fill whole blocks cannot be
    // joined in a blocked output: oneDNN then picks a plain one.
    const dnnl::memory::desc any(out, dnnl::memory::data_type::f32, Tag::any);
    dnnl::concat::primitive_desc pd(any, static_cast<int>(axis), descs, cpu_engine());
    return Entry{descs, pd, dnnl::concat(pd)};
  });
  impl_->src_scratch.resize(srcs.size());
  std::unordered_map<int, dnnl::memory> args;
  for (size_t i = 0; i < srcs.size(); ++i) {
    const float* x = in_layout(*srcs[i], e.src_descs[i], impl_->src_scratch[i]);
    args.emplace(DNNL_ARG_MULTIPLE_SRC + static_cast<int>(i),
                 dnnl::memory(e.src_descs[i], cpu_engine(), const_cast<float*>(x)));
  }
  resize_to(dst, out, e.pd.dst_desc());
  args.emplace(DNNL_ARG_DST, dnnl::memory(e.pd.dst_desc(), cpu_engine(), dst.f32()));
  execute(e.primitive, args);
}

void ConcatKernel::backward(const std::vector<const Tensor*>& srcs, int64_t axis,
                            const Tensor& grad_dst, std::vector<Tensor>& grad_srcs) {
  grad_srcs.resize(srcs.size());
  dnnl::memory::desc whole = run_desc(grad_dst);
  const float* dy = grad_dst.f32();
  if (!grad_dst.is_plain() || !grad_dst.is_contiguous()) {
    // A part of a blocked tensor is addressable only when it starts on a block
    // boundary; check every part, and go through plain memory otherwise.
    bool aligned = true;
    int64_t offset = 0;
    for (const Tensor* s : srcs) {
      Dims offsets(static_cast<size_t>(grad_dst.dim()), 0);
      offsets[static_cast<size_t>(axis)] = offset;
      try {
        (void)whole.submemory_desc(s->shape(), offsets);
      } catch (const dnnl::error&) {
        aligned = false;
      }
      offset += s->size(axis);
    }
    if (!aligned || (grad_dst.is_plain() && !grad_dst.is_contiguous())) {
      whole = dnnl::memory::desc(grad_dst.shape(), dnnl::memory::data_type::f32,
                                 contiguous_strides(grad_dst.shape()));
      impl_->grad_dst_scratch.resize(grad_dst.shape());
      impl_->grad_dst_scratch.copy_from(grad_dst);
      dy = impl_->grad_dst_scratch.f32();
    }
  }
  int64_t offset = 0;
  for (size_t i = 0; i < srcs.size(); ++i) {
    Dims offsets(static_cast<size_t>(grad_dst.dim()), 0);
    offsets[static_cast<size_t>(axis)] = offset;
    const dnnl::memory::desc part = whole.submemory_desc(srcs[i]->shape(), offsets);
    const dnnl::memory::desc want = run_desc(*srcs[i]);
    resize_to(grad_srcs[i], srcs[i]->shape(), want);
    reorder(part, dy, want, grad_srcs[i].f32());
    offset += srcs[i]->size(axis);
  }
}

}  // namespace bdl::kernels
