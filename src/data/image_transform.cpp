#include "bdl/data/image_transform.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "bdl/core/error.h"
#include "bdl/core/random.h"

namespace bdl::data {

ImageTransform image_transform(const std::string& augment, int64_t height, int64_t width,
                               int channels) {
  BDL_CHECK(height > 0 && width > 0, "images: samples of ", height, "x", width, " pixels");
  BDL_CHECK(channels == 1 || channels == 3, "images: samples of ", channels,
            " channels (1: grey, 3: RGB)");
  ImageTransform t;
  t.height = height;
  t.width = width;
  t.channels = channels;
  if (channels == 1) {
    t.mean = {0.5f, 0.5f, 0.5f};
    t.std = {0.5f, 0.5f, 0.5f};
  }
  if (augment == "none") return t;
  if (augment == "flip") {
    t.flip = true;
    return t;
  }
  if (augment == "standard" || augment == "strong") {
    t.random_crop = true;
    t.flip = true;
    if (augment == "strong") t.brightness = t.contrast = t.saturation = 0.4f;
    return t;
  }
  std::string names;
  for (const std::string& p : augment_presets()) names += (names.empty() ? "" : ", ") + p;
  throw Error("--augment: '" + augment + "' is not one of " + names);
}

const std::vector<std::string>& augment_presets() {
  static const std::vector<std::string> presets = {"none", "flip", "standard", "strong"};
  return presets;
}

namespace {

// Torchvision's antialiased bilinear filter for one axis: for each output
// pixel, the input pixels it reads (k of them from `first`, k the same for
// all, so that loops have a fixed length; weights outside the filter are 0)
// and their weights, normalised. Only pixels of [lo, hi) are read. Weights
// are stored tap-major (weights[j * out + o]) for loops over o.
struct Taps {
  std::vector<int32_t> first;
  std::vector<float> weights;
  int64_t k = 0;
};

void make_taps(double start, double length, int64_t out, int64_t lo, int64_t hi, bool reverse,
               Taps& taps) {
  const double scale = length / static_cast<double>(out);
  const double support = scale >= 1.0 ? scale : 1.0;
  const double inv = scale >= 1.0 ? 1.0 / scale : 1.0;
  taps.k = std::min<int64_t>(static_cast<int64_t>(std::ceil(2 * support)) + 1, hi - lo);
  taps.first.resize(static_cast<size_t>(out));
  taps.weights.assign(static_cast<size_t>(out * taps.k), 0.f);
  double w[64];
  for (int64_t o = 0; o < out; ++o) {
    const double center = start + scale * (static_cast<double>(o) + 0.5);
    const int64_t a =
        std::clamp<int64_t>(static_cast<int64_t>(std::floor(center - support + 0.5)), lo, hi - 1);
    const int64_t b =
        std::clamp<int64_t>(static_cast<int64_t>(std::floor(center + support + 0.5)), a + 1, hi);
    const int64_t first = std::min(a, hi - taps.k);  // the window of k pixels holding [a, b)
    const int64_t k = std::min<int64_t>(taps.k, 64);
    double total = 0;
    for (int64_t j = 0; j < k; ++j) {
      const int64_t i = first + j;
      double v = 0;
      if (i >= a && i < b)
        v = std::max(0.0, 1.0 - std::abs((static_cast<double>(i) - center + 0.5) * inv));
      w[j] = v;
      total += v;
    }
    if (total <= 0) {  // a region narrower than a pixel's reach: its nearest pixel
      w[a - first] = total = 1.0;
    }
    const int64_t at = reverse ? out - 1 - o : o;
    taps.first[static_cast<size_t>(at)] = static_cast<int32_t>(first);
    for (int64_t j = 0; j < k; ++j) {
      taps.weights[static_cast<size_t>(j * out + at)] = static_cast<float>(w[j] / total);
    }
  }
}

}  // namespace

void resample(const ImageView& image, int64_t out_h, int64_t out_w, bool flip, float* out,
              std::vector<float>& work) {
  const Region& r = image.region;
  const int64_t c_n = image.channels;
  // Pixels outside the region are never read, as when cropping first.
  const int64_t x_lo =
      std::clamp<int64_t>(static_cast<int64_t>(std::floor(r.x)), 0, image.width - 1);
  const int64_t x_hi =
      std::clamp<int64_t>(static_cast<int64_t>(std::ceil(r.x + r.w)), x_lo + 1, image.width);
  const int64_t y_lo =
      std::clamp<int64_t>(static_cast<int64_t>(std::floor(r.y)), 0, image.height - 1);
  const int64_t y_hi =
      std::clamp<int64_t>(static_cast<int64_t>(std::ceil(r.y + r.h)), y_lo + 1, image.height);
  thread_local Taps tx, ty;
  make_taps(r.x, r.w, out_w, x_lo, x_hi, flip, tx);
  make_taps(r.y, r.h, out_h, y_lo, y_hi, false, ty);
  // Vertical pass first, on whole rows of interleaved pixels (contiguous, so
  // vectorised): out_h rows of (x_hi - x_lo) * channels floats.
  const int64_t row_len = (x_hi - x_lo) * c_n;
  work.resize(static_cast<size_t>(out_h * row_len));
  for (int64_t o = 0; o < out_h; ++o) {
    float* dst = work.data() + o * row_len;
    const int64_t first = ty.first[static_cast<size_t>(o)];
    std::fill(dst, dst + row_len, 0.f);
    for (int64_t j = 0; j < ty.k; ++j) {
      const float wj = ty.weights[static_cast<size_t>(j * out_h + o)];
      if (wj == 0.f) continue;
      const uint8_t* src = image.pixels + ((first + j) * image.width + x_lo) * c_n;
#pragma omp simd
      for (int64_t x = 0; x < row_len; ++x) dst[x] += wj * static_cast<float>(src[x]);
    }
  }
  // Horizontal pass into planes, many output pixels at a time (gathers).
  thread_local std::vector<int32_t> at;
  at.resize(static_cast<size_t>(out_w));
  for (int64_t x = 0; x < out_w; ++x) {
    at[static_cast<size_t>(x)] =
        (tx.first[static_cast<size_t>(x)] - static_cast<int32_t>(x_lo)) * static_cast<int32_t>(c_n);
  }
  const int32_t* index = at.data();
  for (int64_t o = 0; o < out_h; ++o) {
    const float* src = work.data() + o * row_len;
    for (int64_t c = 0; c < c_n; ++c) {
      float* row = out + (c * out_h + o) * out_w;
      std::fill(row, row + out_w, 0.f);
      for (int64_t j = 0; j < tx.k; ++j) {
        const float* in = src + c + j * c_n;
        const float* w = tx.weights.data() + j * out_w;
#pragma omp simd
        for (int64_t x = 0; x < out_w; ++x) row[x] += w[x] * in[index[x]];
      }
    }
  }
}

ImageTransformer::ImageTransformer(const ImageTransform& transform) : transform_(transform) {}

namespace {

struct Draws {
  Region region;
  bool flip = false;
  float brightness = 1, contrast = 1, saturation = 1;
};

Region random_resized_crop(const ImageTransform& t, ImageSize size, Rng& rng) {
  const double w_full = static_cast<double>(size.width), h_full = static_cast<double>(size.height);
  const double area = w_full * h_full;
  const double log_lo = std::log(t.min_aspect), log_hi = std::log(t.max_aspect);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target = area * (t.min_area + rng.uniform() * (t.max_area - t.min_area));
    const double aspect = std::exp(log_lo + rng.uniform() * (log_hi - log_lo));
    const auto w = static_cast<int64_t>(std::lround(std::sqrt(target * aspect)));
    const auto h = static_cast<int64_t>(std::lround(std::sqrt(target / aspect)));
    if (w > 0 && h > 0 && w <= size.width && h <= size.height) {
      const auto y = static_cast<int64_t>(rng.below(static_cast<uint64_t>(size.height - h + 1)));
      const auto x = static_cast<int64_t>(rng.below(static_cast<uint64_t>(size.width - w + 1)));
      return {static_cast<double>(x), static_cast<double>(y), static_cast<double>(w),
              static_cast<double>(h)};
    }
  }
  // The centre, at the nearest allowed aspect ratio.
  double w = w_full, h = h_full;
  const double ratio = w_full / h_full;
  if (ratio < t.min_aspect) {
    h = static_cast<double>(std::lround(w / t.min_aspect));
  } else if (ratio > t.max_aspect) {
    w = static_cast<double>(std::lround(h * t.max_aspect));
  }
  return {std::floor((w_full - w) / 2), std::floor((h_full - h) / 2), w, h};
}

}  // namespace

// Evaluation's crop: the centre of the image resized to short side
// max(height, width) / center_fraction, in the image's own pixels.
Region center_region(const ImageTransform& t, ImageSize size) {
  const double short_side = static_cast<double>(std::min(size.width, size.height));
  const double resized = static_cast<double>(std::max(t.height, t.width)) / t.center_fraction;
  const double f = short_side / resized;  // image pixels per resized pixel
  const double w = std::min(static_cast<double>(t.width) * f, static_cast<double>(size.width));
  const double h = std::min(static_cast<double>(t.height) * f, static_cast<double>(size.height));
  return {(static_cast<double>(size.width) - w) / 2, (static_cast<double>(size.height) - h) / 2, w,
          h};
}

namespace {

Draws draw(const ImageTransform& t, ImageSize size, uint64_t seed) {
  Draws d;
  Rng rng(seed);
  d.region = t.random_crop ? random_resized_crop(t, size, rng) : center_region(t, size);
  if (t.flip) d.flip = rng.uniform() < 0.5;
  auto factor = [&](float x) { return x > 0 ? rng.uniform(std::max(0.f, 1.f - x), 1.f + x) : 1.f; };
  d.brightness = factor(t.brightness);
  d.contrast = factor(t.contrast);
  d.saturation = factor(t.saturation);
  return d;
}

}  // namespace

Region ImageTransformer::crop_for(ImageSize size, uint64_t seed) const {
  return draw(transform_, size, seed).region;
}

void ImageTransformer::apply(std::span<const uint8_t> bytes, const std::string& where,
                             uint64_t seed, float* out) {
  const ImageTransform& t = transform_;
  const ImageSize size = decoder_.size(bytes, where);
  BDL_CHECK(size.width > 0 && size.height > 0, where, ": an image of ", size.width, "x",
            size.height, " pixels");
  const Draws d = draw(t, size, seed);
  const ImageView view =
      decoder_.decode(bytes, where, t.channels, d.region, ImageSize{t.width, t.height});
  resample(view, t.height, t.width, d.flip, out, work_);
  const int64_t plane = t.height * t.width;
  const int64_t n = plane * t.channels;
  const bool jitter = d.brightness != 1.f || d.contrast != 1.f || d.saturation != 1.f;
  if (jitter) {
    for (int64_t i = 0; i < n; ++i) out[i] *= 1.f / 255.f;
    auto clamp01 = [](float v) { return std::min(std::max(v, 0.f), 1.f); };
    auto grey = [&](int64_t i) {
      return t.channels == 3
                 ? 0.299f * out[i] + 0.587f * out[plane + i] + 0.114f * out[2 * plane + i]
                 : out[i];
    };
    if (d.brightness != 1.f) {
      for (int64_t i = 0; i < n; ++i) out[i] = clamp01(out[i] * d.brightness);
    }
    if (d.contrast != 1.f) {
      double total = 0;
      for (int64_t i = 0; i < plane; ++i) total += grey(i);
      const auto mean = static_cast<float>(total / static_cast<double>(plane));
      const float c = d.contrast;
      for (int64_t i = 0; i < n; ++i) out[i] = clamp01(c * out[i] + (1.f - c) * mean);
    }
    if (d.saturation != 1.f && t.channels == 3) {
      const float s = d.saturation;
      for (int64_t i = 0; i < plane; ++i) {
        const float g = grey(i);
        for (int64_t c = 0; c < 3; ++c) {
          float& v = out[c * plane + i];
          v = clamp01(s * v + (1.f - s) * g);
        }
      }
    }
  }
  // Normalise: v / 255 (unless jitter did it) then (v - mean) / std.
  for (int64_t c = 0; c < t.channels; ++c) {
    const float inv_std = 1.f / t.std[static_cast<size_t>(c)];
    const float scale = (jitter ? 1.f : 1.f / 255.f) * inv_std;
    const float shift = -t.mean[static_cast<size_t>(c)] * inv_std;
    float* p = out + c * plane;
#pragma omp simd
    for (int64_t i = 0; i < plane; ++i) p[i] = p[i] * scale + shift;
  }
}

}  // namespace bdl::data
