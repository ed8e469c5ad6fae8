#pragma once

// Blocked layouts chosen by oneDNN, and moving data between layouts. A layer's
// kernel produces its output in the layout its primitive prefers; the next
// kernel takes it as it is when it can, and reorders it otherwise. Layers that
// only know plain tensors call Tensor::contiguous(), which converts.

#include <memory>

#include "bdl/core/tensor.h"
#include "kernels/dnnl_context.h"

namespace bdl::kernels {

class DnnlLayout : public Layout {
 public:
  explicit DnnlLayout(const dnnl::memory::desc& desc, int64_t id) : desc_(desc), id_(id) {}
  std::string name() const override;
  size_t bytes() const override { return desc_.get_size(); }
  void to_plain(const void* src, void* dst) const override;

  const dnnl::memory::desc& desc() const { return desc_; }
  int64_t id() const { return id_; }

 private:
  dnnl::memory::desc desc_;
  int64_t id_;
};

// The layout object for a descriptor: null when the descriptor is plain
// row-major for its dims, otherwise one shared object per distinct descriptor.
std::shared_ptr<const Layout> layout_for(const dnnl::memory::desc& desc);

// The f32 descriptor of a tensor as it is: its blocked layout, or its dims and strides.
dnnl::memory::desc desc_of(const Tensor& t);
// 0 for plain tensors, the interned layout's id otherwise: part of cache keys.
int64_t layout_id(const Tensor& t);

// Copies between two buffers described by two descriptors of the same dims.
void reorder(const dnnl::memory::desc& from, const void* src, const dnnl::memory::desc& to,
             void* dst);

// The descriptor a kernel runs an input in: its own when it is dense (plain
// contiguous or blocked), plain row-major when it is a strided view (in_layout
// then makes the dense copy).
dnnl::memory::desc run_desc(const Tensor& t);

// A memory object over a caller's buffer, for one execution.
inline dnnl::memory wrap(const dnnl::memory::desc& desc, const void* data) {
  return {desc, cpu_engine(), const_cast<void*>(data)};
}

// A pointer to t's elements in the layout `want`: t's own data when it is already
// laid out so, otherwise a reordered copy in `scratch` (reused across calls).
const float* in_layout(const Tensor& t, const dnnl::memory::desc& want, Tensor& scratch);

// Makes out a tensor of the given logical shape laid out as `want`.
void resize_to(Tensor& out, const Shape& shape, const dnnl::memory::desc& want);

}  // namespace bdl::kernels

#include "bdl/kernels/layout_ops.h"
