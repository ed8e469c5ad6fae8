#include "bdl/dist/wire_format.h"

#include <immintrin.h>

#include <cstring>

#include "bdl/core/error.h"

namespace bdl::dist {

WireFormat parse_wire_format(const std::string& name) {
  if (name == "none" || name == "fp32") return WireFormat::fp32;
  if (name == "fp16") return WireFormat::fp16;
  if (name == "bf16") return WireFormat::bf16;
  fail("compress: '", name, "' is not one of none, fp16, bf16");
}

std::string wire_format_name(WireFormat format) {
  switch (format) {
    case WireFormat::fp32:
      return "fp32";
    case WireFormat::fp16:
      return "fp16";
    case WireFormat::bf16:
      return "bf16";
  }
  return "?";
}

// F16C (part of x86-64-v3, which bdl is built for) converts 8 floats at a time
// with round-to-nearest-even.
void encode_fp16(std::span<const float> in, uint16_t* out) {
  const size_t n = in.size();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(in.data() + i), _MM_FROUND_TO_NEAREST_INT);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), h);
  }
  for (; i < n; ++i) out[i] = _cvtss_sh(in[i], _MM_FROUND_TO_NEAREST_INT);
}

void decode_fp16_add(const uint16_t* in, std::span<float> out) {
  const size_t n = out.size();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i)));
    _mm256_storeu_ps(out.data() + i, _mm256_add_ps(_mm256_loadu_ps(out.data() + i), v));
  }
  for (; i < n; ++i) out[i] += _cvtsh_ss(in[i]);
}

void decode_fp16(const uint16_t* in, std::span<float> out) {
  const size_t n = out.size();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(out.data() + i,
                     _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i))));
  }
  for (; i < n; ++i) out[i] = _cvtsh_ss(in[i]);
}

namespace {
uint16_t bf16_round(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40u);  // NaN
  u += 0x7fffu + ((u >> 16) & 1u);  // round to nearest, ties to even
  return static_cast<uint16_t>(u >> 16);
}
float bf16_value(uint16_t h) {
  const uint32_t u = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
}  // namespace

void encode_bf16(std::span<const float> in, uint16_t* out) {
  const size_t n = in.size();
#pragma omp simd
  for (size_t i = 0; i < n; ++i) out[i] = bf16_round(in[i]);
}

void decode_bf16_add(const uint16_t* in, std::span<float> out) {
  const size_t n = out.size();
#pragma omp simd
  for (size_t i = 0; i < n; ++i) out[i] += bf16_value(in[i]);
}

void decode_bf16(const uint16_t* in, std::span<float> out) {
  const size_t n = out.size();
#pragma omp simd
  for (size_t i = 0; i < n; ++i) out[i] = bf16_value(in[i]);
}

}  // namespace bdl::dist
