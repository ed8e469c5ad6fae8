#pragma once

// The one place that owns oneDNN's engine and stream. Only src/kernels includes
// this header: no oneDNN type reaches a public header.

#include <dnnl.hpp>
#include <map>
#include <string>
#include <vector>

#include "bdl/kernels/backend.h"

namespace bdl::kernels {

dnnl::engine& cpu_engine();
dnnl::stream& cpu_stream();

using Dims = dnnl::memory::dims;
using Tag = dnnl::memory::format_tag;

// oneDNN's propagation kind for a pass.
inline dnnl::prop_kind prop_kind_of(Pass pass) {
  return pass == Pass::training ? dnnl::prop_kind::forward_training
                                : dnnl::prop_kind::forward_inference;
}

inline dnnl::memory::desc f32_desc(const Dims& dims, Tag tag) {
  return {dims, dnnl::memory::data_type::f32, tag};
}

// A plain-layout memory object whose data handle is set at every execution;
// creating it once per shape keeps object construction out of the hot loop.
inline dnnl::memory plain_memory(const dnnl::memory::desc& desc) {
  return dnnl::memory(desc, cpu_engine(), DNNL_MEMORY_NONE);
}

inline void bind(dnnl::memory& memory, const void* data) {
  memory.set_data_handle(const_cast<void*>(data));
}

// Created primitives keyed by the shape they were created for (oneDNN's "create
// once, execute many times"). A layer seen with a training and an evaluation
// batch size holds two entries.
template <typename Entry>
class PrimitiveCache {
 public:
  template <typename Make>
  Entry& get(const std::vector<int64_t>& key, Make&& make) {
    auto it = entries_.find(key);
    if (it == entries_.end()) it = entries_.emplace(key, make()).first;
    return it->second;
  }
  size_t size() const { return entries_.size(); }

 private:
  std::map<std::vector<int64_t>, Entry> entries_;
};

// Runs a primitive on the shared stream and waits for it.
void execute(dnnl::primitive& primitive, const std::unordered_map<int, dnnl::memory>& args);

}  // namespace bdl::kernels
