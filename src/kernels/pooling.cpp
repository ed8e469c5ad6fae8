#include "bdl/kernels/pooling.h"

#include <algorithm>
#include <cstring>
#include <limits>
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

// Max pooling written out for the layouts bdl's convolutions produce: channel
// blocks of 8 or 16 lanes (aBcd8b, aBcd16b). oneDNN 2.6's
// kernels run these far below memory speed on tensors of few channels: the
// first pooling of LeNet-5 (6 channels padded to 16, batch 128) took 1.0 ms
// forward and 1.1 ms backward there, 0.33 and 0.35 ms here. Forward keeps no
// argmax: backward finds it again from the input, which costs one more read of
// the input but no write of indices, and no per-lane byte packing. Like
// PyTorch, the first maximum of a window wins and NaN propagates.
struct DirectMaxPool {
  int64_t block = 0;   // lanes per channel block: 8 or 16; 0 when oneDNN runs it
  int64_t planes = 0;  // batch x channel blocks
  bool tiled = false;  // windows cover the input exactly once: backward writes without zeroing
};

DirectMaxPool direct_plan(const Pool2dGeometry& g, const dnnl::memory::desc& src) {
  DirectMaxPool plan;
  if (g.kind != PoolKind::max) return plan;
  // Every window must hold at least one input element.
  if (g.kernel_h <= g.pad_top || g.kernel_w <= g.pad_left) return plan;
  if ((g.out_height() - 1) * g.stride_h - g.pad_top >= g.in_height) return plan;
  if ((g.out_width() - 1) * g.stride_w - g.pad_left >= g.in_width) return plan;
  const Dims dims{g.batch, g.channels, g.in_height, g.in_width};
  // Plain NCHW stays with oneDNN: one lane per window gives these loops nothing
  // to vectorise (7.8 ms against oneDNN's 3 ms for LeNet's first pooling).
  const std::pair<Tag, int64_t> layouts[] = {{Tag::aBcd8b, 8}, {Tag::aBcd16b, 16}};
  for (const auto& [tag, block] : layouts) {
    if (src == f32_desc(dims, tag)) {
      plan.block = block;
      plan.planes = g.batch * ((g.channels + block - 1) / block);
      plan.tiled = g.pad_top == 0 && g.pad_left == 0 && g.stride_h == g.kernel_h &&
                   g.stride_w == g.kernel_w && g.out_height() * g.kernel_h == g.in_height &&
                   g.out_width() * g.kernel_w == g.in_width;
      return plan;
    }
  }
  return plan;
}

Tag tag_of_block(int64_t block) { return block == 8 ? Tag::aBcd8b : Tag::aBcd16b; }

// The part of a window inside the input: [begin, end) offsets from its origin.
struct Window {
  int64_t h0, w0, kh_begin, kh_end, kw_begin, kw_end;
};

Window window_at(const Pool2dGeometry& g, int64_t oh, int64_t ow) {
  Window w;
  w.h0 = oh * g.stride_h - g.pad_top;
  w.w0 = ow * g.stride_w - g.pad_left;
  w.kh_begin = std::max<int64_t>(0, -w.h0);
  w.kh_end = std::min(g.kernel_h, g.in_height - w.h0);
  w.kw_begin = std::max<int64_t>(0, -w.w0);
  w.kw_end = std::min(g.kernel_w, g.in_width - w.w0);
  return w;
}

// One window's running maximum and, when k is given, its first position.
template <int B>
inline void take_max(const float* v, float* m) {
#pragma omp simd
  for (int c = 0; c < B; ++c) m[c] = v[c] > m[c] || v[c] != v[c] ? v[c] : m[c];
}

template <int B>
inline void take_argmax(const float* v, int32_t at, float* m, int32_t* k) {
#pragma omp simd
  for (int c = 0; c < B; ++c) {
    const bool take = v[c] > m[c] || v[c] != v[c];
    m[c] = take ? v[c] : m[c];
    k[c] = take ? at : k[c];
  }
}

// KH and KW are the kernel's extents when they are compile-time constants (0
// otherwise): then the loops over a whole window unroll and its running maximum
// stays in registers, which halves the time of backward.
template <int B, int KH, int KW>
void max_pool_forward(const Pool2dGeometry& g, int64_t planes, const float* src, float* dst) {
  const int64_t in_h = g.in_height, in_w = g.in_width, out_h = g.out_height(),
                out_w = g.out_width();
  const int64_t kh_n = KH > 0 ? KH : g.kernel_h, kw_n = KW > 0 ? KW : g.kernel_w;
#pragma omp parallel for collapse(2) if (planes * out_h * out_w * B > 16384)
  for (int64_t p = 0; p < planes; ++p) {
    for (int64_t oh = 0; oh < out_h; ++oh) {
      const float* x = src + p * in_h * in_w * B;
      float* y = dst + (p * out_h + oh) * out_w * B;
      for (int64_t ow = 0; ow < out_w; ++ow, y += B) {
        const Window w = window_at(g, oh, ow);
        float m[B];
        for (int c = 0; c < B; ++c) m[c] = -std::numeric_limits<float>::infinity();
        if (w.kh_begin == 0 && w.kh_end == kh_n && w.kw_begin == 0 && w.kw_end == kw_n) {
          for (int64_t kh = 0; kh < kh_n; ++kh) {
            for (int64_t kw = 0; kw < kw_n; ++kw) {
              take_max<B>(x + ((w.h0 + kh) * in_w + (w.w0 + kw)) * B, m);
            }
          }
        } else {
          for (int64_t kh = w.kh_begin; kh < w.kh_end; ++kh) {
            for (int64_t kw = w.kw_begin; kw < w.kw_end; ++kw) {
              take_max<B>(x + ((w.h0 + kh) * in_w + (w.w0 + kw)) * B, m);
            }
          }
        }
        for (int c = 0; c < B; ++c) y[c] = m[c];
      }
    }
  }
}

// A ReLU before the pooling passes no gradient where its output, the window's
// maximum, is not positive: no position of the window gets one.
template <int B>
inline void drop_non_positive(const float* m, int32_t* k) {
#pragma omp simd
  for (int c = 0; c < B; ++c) k[c] = m[c] > 0.f ? k[c] : -1;
}

// Sends each lane's gradient to its window's argmax: written when windows tile
// the input (every element gets exactly one value), added otherwise.
template <int B>
inline void route_write(const int32_t* k, int32_t at, const float* dy, float* out) {
#pragma omp simd
  for (int c = 0; c < B; ++c) out[c] = k[c] == at ? dy[c] : 0.0f;
}

template <int B>
inline void route_add(const int32_t* k, int32_t at, const float* dy, float* out) {
#pragma omp simd
  for (int c = 0; c < B; ++c) out[c] += k[c] == at ? dy[c] : 0.0f;
}

template <int B, bool kTiled>
inline void route(const int32_t* k, int32_t at, const float* dy, float* out) {
  if constexpr (kTiled) {
    route_write<B>(k, at, dy, out);
  } else {
    route_add<B>(k, at, dy, out);
  }
}

template <int B, int KH, int KW, bool kTiled>
void max_pool_backward(const Pool2dGeometry& g, int64_t planes, const float* src,
                       const float* grad_dst, float* grad_src, bool rectify) {
  const int64_t in_h = g.in_height, in_w = g.in_width, out_h = g.out_height(),
                out_w = g.out_width();
  const int64_t kh_n = KH > 0 ? KH : g.kernel_h, kw_n = KW > 0 ? KW : g.kernel_w;
#pragma omp parallel for if (planes * out_h * out_w * B > 16384)
  for (int64_t p = 0; p < planes; ++p) {
    const float* x = src + p * in_h * in_w * B;
    float* dx = grad_src + p * in_h * in_w * B;
    if (!kTiled) std::memset(dx, 0, static_cast<size_t>(in_h * in_w * B) * sizeof(float));
    const float* dy = grad_dst + p * out_h * out_w * B;
    for (int64_t oh = 0; oh < out_h; ++oh) {
      for (int64_t ow = 0; ow < out_w; ++ow, dy += B) {
        const Window w = window_at(g, oh, ow);
        float m[B];
        int32_t k[B];  // 32-bit like the values, so that both fill one vector width
        for (int c = 0; c < B; ++c) {
          m[c] = -std::numeric_limits<float>::infinity();
          k[c] = static_cast<int32_t>(w.kh_begin * kw_n + w.kw_begin);
        }
        if (w.kh_begin == 0 && w.kh_end == kh_n && w.kw_begin == 0 && w.kw_end == kw_n) {
          for (int64_t kh = 0; kh < kh_n; ++kh) {
            for (int64_t kw = 0; kw < kw_n; ++kw) {
              take_argmax<B>(x + ((w.h0 + kh) * in_w + (w.w0 + kw)) * B,
                             static_cast<int32_t>(kh * kw_n + kw), m, k);
            }
          }
          if (rectify) drop_non_positive<B>(m, k);
          for (int64_t kh = 0; kh < kh_n; ++kh) {
            for (int64_t kw = 0; kw < kw_n; ++kw) {
              route<B, kTiled>(k, static_cast<int32_t>(kh * kw_n + kw), dy,
                               dx + ((w.h0 + kh) * in_w + (w.w0 + kw)) * B);
            }
          }
          continue;
        }
        for (int64_t kh = w.kh_begin; kh < w.kh_end; ++kh) {
          for (int64_t kw = w.kw_begin; kw < w.kw_end; ++kw) {
            take_argmax<B>(x + ((w.h0 + kh) * in_w + (w.w0 + kw)) * B,
                           static_cast<int32_t>(kh * kw_n + kw), m, k);
          }
        }
        if (rectify) drop_non_positive<B>(m, k);
        for (int64_t kh = w.kh_begin; kh < w.kh_end; ++kh) {
          for (int64_t kw = w.kw_begin; kw < w.kw_end; ++kw) {
            route<B, kTiled>(k, static_cast<int32_t>(kh * kw_n + kw), dy,
                             dx + ((w.h0 + kh) * in_w + (w.w0 + kw)) * B);
          }
        }
      }
    }
  }
}

struct Entry {
  Pool2dGeometry geometry;
  Pass pass = Pass::training;
  DirectMaxPool direct;
  dnnl::memory::desc src_desc, dst_desc;
  dnnl::pooling_forward::primitive_desc fwd_pd;
  dnnl::pooling_forward fwd;
  std::optional<dnnl::pooling_backward::primitive_desc> bwd_pd;
  std::optional<dnnl::pooling_backward> bwd;
  Tensor workspace;  // raw bytes for max pooling's argmax
  Tensor src_scratch, grad_dst_scratch;
};

Entry make_entry(const Pool2dGeometry& g, const dnnl::memory::desc& src, Pass pass) {
  const Dims dst_dims{g.batch, g.channels, g.out_height(), g.out_width()};
  Entry e;
  e.geometry = g;
  e.pass = pass;
  e.src_desc = src;
  e.direct = direct_plan(g, src);
  if (e.direct.block > 0) {
    e.dst_desc = f32_desc(dst_dims, tag_of_block(e.direct.block));
    return e;
  }
  const dnnl::memory::desc dst(dst_dims, dnnl::memory::data_type::f32, Tag::any);
  dnnl::pooling_forward::desc desc(prop_kind_of(pass), algorithm_of(g.kind), src, dst,
                                   {g.stride_h, g.stride_w}, {g.kernel_h, g.kernel_w},
                                   {g.pad_top, g.pad_left}, {g.pad_bottom, g.pad_right});
  e.fwd_pd = dnnl::pooling_forward::primitive_desc(desc, cpu_engine());
  e.fwd = dnnl::pooling_forward(e.fwd_pd);
  e.dst_desc = e.fwd_pd.dst_desc();
  // Max pooling keeps its argmax for backward, in training only.
  if (g.kind == PoolKind::max && pass == Pass::training) {
    const auto bytes = static_cast<int64_t>(e.fwd_pd.workspace_desc().get_size());
    e.workspace.resize({bytes}, DType::u8);
  }
  return e;
}

// The kernel instantiated for the entry's block and, for 2x2 and 3x3 windows,
// its extents.
template <int B>
void run_direct(const Entry& e, const float* x, const float* dy, float* out, bool backward,
                bool rectify) {
  const Pool2dGeometry& g = e.geometry;
  const auto run = [&]<int KH, int KW>() {
    if (backward && e.direct.tiled) {
      return max_pool_backward<B, KH, KW, true>(g, e.direct.planes, x, dy, out, rectify);
    }
    if (backward) {
      return max_pool_backward<B, KH, KW, false>(g, e.direct.planes, x, dy, out, rectify);
    }
    max_pool_forward<B, KH, KW>(g, e.direct.planes, x, out);
  };
  if (g.kernel_h == 2 && g.kernel_w == 2) return run.template operator()<2, 2>();
  if (g.kernel_h == 3 && g.kernel_w == 3) return run.template operator()<3, 3>();
  run.template operator()<0, 0>();
}

// Forward when dy is null, backward (dy in, out = the input's gradient) otherwise.
void run_direct(const Entry& e, const float* x, const float* dy, float* out, bool rectify = false) {
  const bool backward = dy != nullptr;
  if (e.direct.block == 8) return run_direct<8>(e, x, dy, out, backward, rectify);
  run_direct<16>(e, x, dy, out, backward, rectify);
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
  resize_to(dst, {g.batch, g.channels, g.out_height(), g.out_width()}, e.dst_desc);
  if (e.direct.block > 0) return run_direct(e, x, nullptr, dst.f32());
  std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, wrap(e.fwd_pd.src_desc(), x)},
                                             {DNNL_ARG_DST, wrap(e.fwd_pd.dst_desc(), dst.f32())}};
  if (e.workspace.defined()) {
    args.emplace(DNNL_ARG_WORKSPACE, wrap(e.fwd_pd.workspace_desc(), e.workspace.raw_data()));
  }
  execute(e.fwd, args);
}

void Pool2dKernel::backward(const Pool2dGeometry& g, const Tensor& src, const Tensor& grad_dst,
                            Tensor& grad_src, bool rectify) {
  Entry* e = impl_->last;
  BDL_CHECK(e != nullptr && e->geometry.key() == g.key(),
            "pooling backward without a forward of the same shape");
  BDL_CHECK(e->pass == Pass::training,
            "pooling backward after a forward for inference (set_inference(false) first)");
  if (e->direct.block > 0) {
    const float* x = in_layout(src, e->src_desc, e->src_scratch);
    const float* dy = in_layout(grad_dst, e->dst_desc, e->grad_dst_scratch);
    resize_to(grad_src, src.shape(), e->src_desc);
    return run_direct(*e, x, dy, grad_src.f32(), rectify);
  }
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
  if (!rectify) return;
  // The ReLU's mask, from its output (this pooling's input) in the gradient's layout.
  const float* x = in_layout(src, desc_of(grad_src), e->src_scratch);
  float* dx = grad_src.f32();
  const auto n = static_cast<int64_t>(grad_src.physical_bytes() / sizeof(float));
#pragma omp parallel for simd if (n > 65536)
  for (int64_t i = 0; i < n; ++i) dx[i] = x[i] > 0.f ? dx[i] : 0.f;
}

}  // namespace bdl::kernels
