#include "bdl/dist/wire_format.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "bdl/core/error.h"

namespace bdl::dist {
namespace {

std::vector<float> roundtrip(WireFormat f, const std::vector<float>& in) {
  std::vector<uint16_t> wire(in.size());
  std::vector<float> out(in.size());
  if (f == WireFormat::fp16) {
    encode_fp16(in, wire.data());
    decode_fp16(wire.data(), out);
  } else {
    encode_bf16(in, wire.data());
    decode_bf16(wire.data(), out);
  }
  return out;
}

TEST(WireFormat, Bf16RoundsToNearestEven) {
  // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties go to the even mantissa (1).
  // 1 + 3 * 2^-8 is halfway between 1 + 2^-7 and 1 + 2^-6: ties to 1 + 2^-6.
  // BigDL's truncation would give 1 and 1 + 2^-7.
  const std::vector<float> in{1.f + std::ldexp(1.f, -8), 1.f + 3 * std::ldexp(1.f, -8),
                              1.f + std::ldexp(1.f, -8) + std::ldexp(1.f, -12), -2.5f};
  const auto out = roundtrip(WireFormat::bf16, in);
  EXPECT_EQ(out[0], 1.f);
  EXPECT_EQ(out[1], 1.f + std::ldexp(1.f, -6));
  EXPECT_EQ(out[2], 1.f + std::ldexp(1.f, -7));  // above halfway: rounds up
  EXPECT_EQ(out[3], -2.5f);
}

TEST(WireFormat, Fp16RoundsToNearestEvenOnEveryPathLength) {
  // 17 values: 16 go through the 8-wide path, one through the scalar tail.
  std::vector<float> in(17, 1.f + std::ldexp(1.f, -11));  // halfway: even is 1
  in[16] = 1.f + 3 * std::ldexp(1.f, -11);                // halfway: even is 1 + 2^-9
  const auto out = roundtrip(WireFormat::fp16, in);
  for (int i = 0; i < 16; ++i) EXPECT_EQ(out[i], 1.f);
  EXPECT_EQ(out[16], 1.f + std::ldexp(1.f, -9));
}

TEST(WireFormat, SpecialValuesSurvive) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (WireFormat f : {WireFormat::fp16, WireFormat::bf16}) {
    const auto out = roundtrip(f, {inf, -inf, nan, 0.f, -0.f});
    EXPECT_EQ(out[0], inf);
    EXPECT_EQ(out[1], -inf);
    EXPECT_TRUE(std::isnan(out[2]));
    EXPECT_EQ(out[3], 0.f);
    EXPECT_TRUE(std::signbit(out[4]));
  }
  // fp16 overflows to infinity above 65504.
  EXPECT_EQ(roundtrip(WireFormat::fp16, {1e6f})[0], inf);
}

TEST(WireFormat, DecodeAddSumsInFloat32) {
  std::vector<float> acc(9, 1000.f);
  std::vector<uint16_t> wire(9);
  encode_fp16(std::vector<float>(9, 0.5f), wire.data());
  decode_fp16_add(wire.data(), acc);
  for (float v : acc) EXPECT_EQ(v, 1000.5f);  // 1000.5 is not representable in fp16
}

TEST(WireFormat, NamesParseAndBadNamesAreRejected) {
  EXPECT_EQ(parse_wire_format("none"), WireFormat::fp32);
  EXPECT_EQ(parse_wire_format("bf16"), WireFormat::bf16);
  EXPECT_THROW(parse_wire_format("int8"), Error);
}

}  // namespace
}  // namespace bdl::dist
