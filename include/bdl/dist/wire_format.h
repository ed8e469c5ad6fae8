#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace bdl::dist {

// How gradients and weight updates travel between workers. The 16-bit formats
// round to nearest even once per hop; sums are always formed in fp32.
enum class WireFormat { fp32, fp16, bf16 };

WireFormat parse_wire_format(const std::string& name);  // "none"/"fp32", "fp16", "bf16"
std::string wire_format_name(WireFormat format);
inline size_t wire_bytes(WireFormat format) { return format == WireFormat::fp32 ? 4 : 2; }

// Round-to-nearest-even conversions; NaN stays NaN, overflow becomes infinity.
void encode_fp16(std::span<const float> in, uint16_t* out);
void decode_fp16_add(const uint16_t* in, std::span<float> out);  // out += decoded
void decode_fp16(const uint16_t* in, std::span<float> out);
void encode_bf16(std::span<const float> in, uint16_t* out);
void decode_bf16_add(const uint16_t* in, std::span<float> out);
void decode_bf16(const uint16_t* in, std::span<float> out);

}  // namespace bdl::dist
