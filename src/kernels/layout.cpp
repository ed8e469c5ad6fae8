#include "kernels/layout.h"

#include <cstring>
#include <mutex>
#include <sstream>
#include <vector>

namespace bdl::kernels {
namespace {

struct Registry {
  std::mutex mutex;
  std::vector<std::shared_ptr<const DnnlLayout>> layouts;
};

Registry& registry() {
  static Registry r;
  return r;
}

struct ReorderEntry {
  dnnl::memory::desc from, to;
  dnnl::reorder primitive;
};

dnnl::memory::desc plain_desc(const dnnl::memory::dims& dims) {
  dnnl::memory::dims strides(dims.size());
  int64_t stride = 1;
  for (size_t i = dims.size(); i-- > 0;) {
    strides[i] = stride;
    stride *= dims[i];
  }
  return {dims, dnnl::memory::data_type::f32, strides};
}

}  // namespace

std::string DnnlLayout::name() const {
  const auto& blocking = desc_.data.format_desc.blocking;
  std::ostringstream s;
  s << "blocked";
  for (int i = 0; i < blocking.inner_nblks; ++i) {
    s << ':' << blocking.inner_blks[i] << "x" << static_cast<char>('a' + blocking.inner_idxs[i]);
  }
  return s.str();
}

void DnnlLayout::to_plain(const void* src, void* dst) const {
  reorder(desc_, src, plain_desc(desc_.dims()), dst);
}

std::shared_ptr<const Layout> layout_for(const dnnl::memory::desc& desc) {
  if (desc == plain_desc(desc.dims())) return nullptr;
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  for (const auto& layout : r.layouts) {
    if (layout->desc() == desc) return layout;
  }
  r.layouts.push_back(
      std::make_shared<const DnnlLayout>(desc, static_cast<int64_t>(r.layouts.size()) + 1));
  return r.layouts.back();
}

dnnl::memory::desc desc_of(const Tensor& t) {
  if (const auto* blocked = dynamic_cast<const DnnlLayout*>(t.layout().get())) {
    BDL_CHECK(blocked->desc().dims() == t.shape(), "tensor of shape ", t.shape_str(),
              " carries a layout for ", shape_str(blocked->desc().dims()));
    return blocked->desc();
  }
  BDL_CHECK(t.is_plain(), "tensor of shape ", t.shape_str(), " has a foreign layout ",
            t.layout()->name());
  return {t.shape(), dnnl::memory::data_type::f32, t.strides()};
}

dnnl::memory::desc run_desc(const Tensor& t) {
  if (!t.is_plain() || t.is_contiguous()) return desc_of(t);
  return {t.shape(), dnnl::memory::data_type::f32, contiguous_strides(t.shape())};
}

int64_t layout_id(const Tensor& t) {
  const auto* blocked = dynamic_cast<const DnnlLayout*>(t.layout().get());
  return blocked ? blocked->id() : 0;
}

void reorder(const dnnl::memory::desc& from, const void* src, const dnnl::memory::desc& to,
             void* dst) {
  // A handful of distinct reorders exist per model: a linear search is enough.
  thread_local std::vector<ReorderEntry> cache;
  ReorderEntry* entry = nullptr;
  for (auto& e : cache) {
    if (e.from == from && e.to == to) {
      entry = &e;
      break;
    }
  }
  if (!entry) {
    dnnl::reorder::primitive_desc pd(cpu_engine(), from, cpu_engine(), to);
    cache.push_back({from, to, dnnl::reorder(pd)});
    entry = &cache.back();
  }
  dnnl::memory a(from, cpu_engine(), const_cast<void*>(src));
  dnnl::memory b(to, cpu_engine(), dst);
  execute(entry->primitive, {{DNNL_ARG_FROM, a}, {DNNL_ARG_TO, b}});
}

const float* in_layout(const Tensor& t, const dnnl::memory::desc& want, Tensor& scratch) {
  const dnnl::memory::desc have = desc_of(t);
  if (have == want) return t.f32();
  resize_to(scratch, t.shape(), want);
  reorder(have, t.f32(), want, scratch.f32());
  return scratch.f32();
}

void resize_to(Tensor& out, const Shape& shape, const dnnl::memory::desc& want) {
  out.resize(shape, layout_for(want));
}

}  // namespace bdl::kernels

namespace bdl::kernels {

void copy_into(Tensor& dst, const Tensor& src) {
  if (src.is_plain()) {
    dst.resize(src.shape());
    dst.copy_from(src);
    return;
  }
  dst.resize(src.shape(), src.layout());
  std::memcpy(dst.raw_data(), src.raw_data(), src.physical_bytes());
}

void add_into(Tensor& acc, const Tensor& x, Tensor& scratch) {
  BDL_CHECK(acc.shape() == x.shape(), "add: shapes ", acc.shape_str(), " and ", x.shape_str(),
            " differ");
  BDL_CHECK(acc.is_contiguous() || !acc.is_plain(), "add: the accumulator of shape ",
            acc.shape_str(), " is a strided view");
  const dnnl::memory::desc want = desc_of(acc);
  const float* src = in_layout(x, want, scratch);
  float* dst = acc.f32();
  const auto n = static_cast<int64_t>(want.get_size() / sizeof(float));
#pragma omp parallel for simd if (n > 65536)
  for (int64_t i = 0; i < n; ++i) dst[i] += src[i];
}

}  // namespace bdl::kernels
