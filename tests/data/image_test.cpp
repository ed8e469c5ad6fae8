// Images: decoding (against Pillow on the same libjpeg-turbo), reduced-scale
// and cropped decoding, the antialiased resize (against torch's interpolate),
// the transforms' seeded draws, and bad files named.
#include "bdl/data/image.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>

#include "bdl/data/image_transform.h"
#include "support/errors.h"
#include "support/fixtures.h"
#include "support/temp_dir.h"

namespace bdl::data {
namespace {

using testing::error_of;

std::vector<uint8_t> base64(const std::string& text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
  };
  std::vector<uint8_t> out;
  int bits = 0, acc = 0;
  for (char c : text) {
    const int v = value(c);
    if (v < 0) continue;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<uint8_t>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

const nlohmann::json& fixtures() {
  static const nlohmann::json all = testing::load_fixture("images.json");
  return all;
}

std::vector<uint8_t> read(const std::string& path) {
  std::vector<uint8_t> bytes;
  read_file_bytes(path, bytes);
  return bytes;
}

// A w x h RGB picture with structure at every scale.
std::vector<uint8_t> picture(int64_t w, int64_t h, int channels = 3) {
  std::vector<uint8_t> p(static_cast<size_t>(w * h * channels));
  for (int64_t y = 0; y < h; ++y) {
    for (int64_t x = 0; x < w; ++x) {
      for (int c = 0; c < channels; ++c) {
        const double v = 128 + 60 * std::sin((x * (c + 1) + y * 2) / 9.0) +
                         50 * std::cos((x - 3 * y * (c + 1)) / 23.0);
        p[static_cast<size_t>((y * w + x) * channels + c)] =
            static_cast<uint8_t>(std::clamp(v, 0.0, 255.0));
      }
    }
  }
  return p;
}

TEST(Resample, MatchesTorchInterpolateWithAntialias) {
  std::vector<float> work;
  for (const auto& c : fixtures()["resize"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const auto pixels = c["pixels"].get<std::vector<uint8_t>>();
    const auto region = c["region"].get<std::vector<double>>();
    ImageView view{pixels.data(), c["width"], c["height"], c["channels"],
                   Region{region[0], region[1], region[2], region[3]}};
    const int64_t oh = c["out_height"], ow = c["out_width"];
    std::vector<float> out(static_cast<size_t>(oh * ow * view.channels));
    resample(view, oh, ow, false, out.data(), work);
    const auto expected = c["expected"].get<std::vector<float>>();
    ASSERT_EQ(out.size(), expected.size());
    float worst = 0;
    for (size_t i = 0; i < out.size(); ++i) worst = std::max(worst, std::abs(out[i] - expected[i]));
    EXPECT_LT(worst, 2e-3f);
    // Flipped: the same rows, mirrored.
    std::vector<float> flipped(out.size());
    resample(view, oh, ow, true, flipped.data(), work);
    for (int64_t r = 0; r < oh * view.channels; ++r) {
      for (int64_t x = 0; x < ow; ++x) {
        ASSERT_EQ(flipped[static_cast<size_t>(r * ow + x)],
                  out[static_cast<size_t>(r * ow + ow - 1 - x)]);
      }
    }
  }
}

TEST(ImageDecoder, DecodesAJpegAsPillowDoesAtFullAndReducedScale) {
  const auto& c = fixtures()["jpeg"];
  const std::vector<uint8_t> bytes = base64(c["bytes"].get<std::string>());
  ASSERT_EQ(image_format(bytes), ImageFormat::jpeg);
  ImageDecoder decoder;
  const ImageSize size = decoder.size(bytes, "fixture.jpg");
  EXPECT_EQ(size.width, 64);
  EXPECT_EQ(size.height, 48);
  for (int scale : {1, 2, 4}) {
    SCOPED_TRACE(scale);
    const auto& want = c["decoded"][std::to_string(scale)];
    // A need of 1/scale of the image lets the decoder shrink by that much.
    const ImageView v = decoder.decode(bytes, "fixture.jpg", 3, {}, {64 / scale, 48 / scale});
    ASSERT_EQ(v.width, want["width"].get<int64_t>());
    ASSERT_EQ(v.height, want["height"].get<int64_t>());
    const auto pixels = want["pixels"].get<std::vector<uint8_t>>();
    EXPECT_TRUE(std::equal(pixels.begin(), pixels.end(), v.pixels));
    EXPECT_DOUBLE_EQ(v.region.w, 64.0 / scale);
  }
  // Grey: libjpeg's luma (before RGB is clamped to [0, 255]) against
  // Pillow's conversion of the clamped RGB pixels: close, not equal.
  const ImageView g = decoder.decode(bytes, "fixture.jpg", 1);
  const auto grey = c["grey"].get<std::vector<int>>();
  ASSERT_EQ(g.width * g.height, static_cast<int64_t>(grey.size()));
  double total = 0;
  for (size_t i = 0; i < grey.size(); ++i) {
    ASSERT_NEAR(g.pixels[i], grey[i], 8) << i;
    total += std::abs(g.pixels[i] - grey[i]);
  }
  EXPECT_LT(total / static_cast<double>(grey.size()), 0.75);
}

TEST(ImageDecoder, DecodesOnlyTheRowsAndColumnsOfARegion) {
  testing::TempDir dir;
  const auto p = picture(300, 200);
  write_jpeg(dir.file("a.jpg"), p.data(), 300, 200, 3, 92);
  const auto bytes = read(dir.file("a.jpg"));
  ImageDecoder decoder;
  const ImageView full0 = decoder.decode(bytes, "a.jpg", 3);
  const std::vector<uint8_t> full(full0.pixels, full0.pixels + 300 * 200 * 3);
  const Region want{101, 57, 60, 70};
  const ImageView part = decoder.decode(bytes, "a.jpg", 3, want, {60, 70});
  EXPECT_LT(part.width, 300);  // columns cropped (to an iMCU edge)
  EXPECT_EQ(part.height, 70);  // rows skipped and stopped early
  // The region's pixels are those of the full decode.
  const auto x0 = static_cast<int64_t>(part.region.x), y0 = static_cast<int64_t>(part.region.y);
  int64_t differ = 0;
  for (int64_t y = 0; y < 70; ++y) {
    for (int64_t x = 0; x < 60 * 3; ++x) {
      const int a = part.pixels[((y0 + y) * part.width) * 3 + x0 * 3 + x];
      const int b = full[static_cast<size_t>(((57 + y) * 300 + 101) * 3 + x)];
      differ += std::abs(a - b) > 1 ? 1 : 0;
    }
  }
  EXPECT_EQ(differ, 0);
  // A region of a quarter of the pixels it needs decodes at 1/4 scale... and
  // one that needs more than it has, at full size.
  const ImageView small = decoder.decode(bytes, "a.jpg", 3, {0, 0, 300, 200}, {75, 50});
  EXPECT_EQ(small.width, 75);
  EXPECT_EQ(small.height, 50);
  const ImageView big = decoder.decode(bytes, "a.jpg", 3, {0, 0, 300, 200}, {400, 400});
  EXPECT_EQ(big.width, 300);
}

TEST(ImageDecoder, ReadsPngsBackExactlyAndTurnsGreyIntoRgb) {
  testing::TempDir dir;
  const auto rgb = picture(31, 17);
  write_png(dir.file("c.png"), rgb.data(), 31, 17, 3);
  const auto grey = picture(13, 9, 1);
  write_png(dir.file("g.png"), grey.data(), 13, 9, 1);
  ImageDecoder decoder;
  auto bytes = read(dir.file("c.png"));
  ASSERT_EQ(image_format(bytes), ImageFormat::png);
  ImageView v = decoder.decode(bytes, "c.png", 3);
  ASSERT_EQ(v.width, 31);
  EXPECT_TRUE(std::equal(rgb.begin(), rgb.end(), v.pixels));
  bytes = read(dir.file("g.png"));
  v = decoder.decode(bytes, "g.png", 3);
  for (size_t i = 0; i < grey.size(); ++i) {
    ASSERT_EQ(v.pixels[3 * i], grey[i]);
    ASSERT_EQ(v.pixels[3 * i + 2], grey[i]);
  }
}

TEST(ImageDecoder, NamesTheFileOfEveryBadImage) {
  testing::TempDir dir;
  const auto p = picture(64, 64);
  write_jpeg(dir.file("ok.jpg"), p.data(), 64, 64, 3);
  write_png(dir.file("ok.png"), p.data(), 64, 64, 3);
  const auto jpeg = read(dir.file("ok.jpg"));
  const auto png = read(dir.file("ok.png"));
  ImageDecoder decoder;
  auto fails = [&](std::vector<uint8_t> bytes) {
    return error_of([&] {
      decoder.size(bytes, "/data/cat/bad.jpg");
      decoder.decode(bytes, "/data/cat/bad.jpg", 3);
    });
  };
  EXPECT_NE(fails({}).find("/data/cat/bad.jpg: neither a JPEG nor a PNG"), std::string::npos);
  EXPECT_NE(fails({'h', 'e', 'l', 'l', 'o'}).find("neither a JPEG nor a PNG"), std::string::npos);
  EXPECT_NE(fails({jpeg.begin(), jpeg.begin() + jpeg.size() / 2}).find("cut short"),
            std::string::npos);
  EXPECT_NE(fails({jpeg.begin(), jpeg.begin() + 40}).find("bad.jpg: a JPEG cut short"),
            std::string::npos);
  // A small file that declares a huge image (a decompression bomb) is refused
  // before anything is allocated for it.
  auto bomb = jpeg;
  for (size_t i = 0; i + 8 < bomb.size(); ++i) {
    if (bomb[i] == 0xFF && bomb[i + 1] == 0xC0) {  // SOF0: height, then width, at +5
      bomb[i + 5] = bomb[i + 7] = 0xEA;
      bomb[i + 6] = bomb[i + 8] = 0x60;
      break;
    }
  }
  EXPECT_NE(fails(bomb).find("an image of 60000x60000 pixels, more than bdl decodes"),
            std::string::npos);
  EXPECT_NE(fails({png.begin(), png.begin() + png.size() / 2}).find("not a readable PNG"),
            std::string::npos);
  auto garbled = jpeg;
  for (size_t i = 200; i < garbled.size() - 2; i += 7) garbled[i] ^= 0x5A;
  // Damage in the entropy-coded data may decode as noise (as in Pillow);
  // damage in the headers must be an error, never a crash.
  (void)fails(garbled);
  auto header = jpeg;
  for (size_t i = 2; i < 160 && i < header.size(); ++i) header[i] = 0xFF;
  EXPECT_NE(fails(header).find("bad.jpg"), std::string::npos);
  // The decoder still works after failures.
  EXPECT_EQ(decoder.decode(jpeg, "ok.jpg", 3).width, 64);
}

TEST(ImageTransform, PresetsAndTheirErrors) {
  const ImageTransform t = image_transform("strong", 224, 224, 3);
  EXPECT_TRUE(t.random_crop && t.flip);
  EXPECT_FLOAT_EQ(t.saturation, 0.4f);
  EXPECT_FALSE(image_transform("none", 32, 32, 1).random());
  EXPECT_EQ(image_transform("none", 32, 32, 1).mean[0], 0.5f);
  EXPECT_NE(
      error_of([] { image_transform("fancy", 8, 8, 3); }).find("none, flip, standard, strong"),
      std::string::npos);
  EXPECT_NE(error_of([] { image_transform("none", 8, 8, 4); }).find("4 channels"),
            std::string::npos);
}

TEST(ImageTransform, RandomResizedCropDrawsAreSeededAndInBounds) {
  ImageTransformer t(image_transform("standard", 224, 224, 3));
  std::set<double> xs;
  for (uint64_t seed = 0; seed < 2000; ++seed) {
    const ImageSize size{500, 375};
    const Region r = t.crop_for(size, seed);
    ASSERT_GE(r.x, 0);
    ASSERT_GE(r.y, 0);
    ASSERT_LE(r.x + r.w, 500);
    ASSERT_LE(r.y + r.h, 375);
    const double area = r.w * r.h / (500.0 * 375.0);
    ASSERT_GE(area, 0.079);
    ASSERT_LE(area, 1.0);
    const Region again = t.crop_for(size, seed);
    ASSERT_EQ(again.x, r.x);
    ASSERT_EQ(again.w, r.w);
    xs.insert(r.x);
  }
  EXPECT_GT(xs.size(), 200u);  // the draws differ from seed to seed
  // A strip too thin for any allowed aspect ratio falls back to its centre.
  const Region strip = t.crop_for({1000, 10}, 3);
  EXPECT_NEAR(strip.w / strip.h, 4.0 / 3.0, 0.1);
  EXPECT_NEAR(strip.x + strip.w / 2, 500, 1);
}

TEST(ImageTransform, CenterCropNormalisesAndIsTheSameEveryTime) {
  testing::TempDir dir;
  // A flat colour: every output pixel is that colour, normalised.
  std::vector<uint8_t> flat(120 * 80 * 3);
  for (size_t i = 0; i < flat.size(); i += 3) {
    flat[i] = 255;
    flat[i + 1] = 0;
    flat[i + 2] = 51;
  }
  write_png(dir.file("flat.png"), flat.data(), 120, 80, 3);
  const auto bytes = read(dir.file("flat.png"));
  ImageTransformer t(image_transform("none", 16, 24, 3));
  std::vector<float> out(3 * 16 * 24);
  t.apply(bytes, "flat.png", 1, out.data());
  EXPECT_NEAR(out[0], (1.f - 0.485f) / 0.229f, 1e-4);
  EXPECT_NEAR(out[16 * 24 + 5], (0.f - 0.456f) / 0.224f, 1e-4);
  EXPECT_NEAR(out[2 * 16 * 24 + 100], (0.2f - 0.406f) / 0.225f, 1e-4);
  std::vector<float> again(out.size());
  t.apply(bytes, "flat.png", 99, again.data());  // no draws: the seed does not matter
  EXPECT_EQ(out, again);
}

TEST(ImageTransform, FlipAndJitterFollowTheSeed) {
  testing::TempDir dir;
  const auto p = picture(90, 70);
  write_jpeg(dir.file("p.jpg"), p.data(), 90, 70, 3, 95);
  const auto bytes = read(dir.file("p.jpg"));
  ImageTransformer plain(image_transform("none", 32, 32, 3));
  ImageTransformer flips(image_transform("flip", 32, 32, 3));
  ImageTransformer strong(image_transform("strong", 32, 32, 3));
  std::vector<float> base(3 * 32 * 32), out(base.size()), out2(base.size());
  plain.apply(bytes, "p.jpg", 0, base.data());
  int flipped = 0, kept = 0;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    flips.apply(bytes, "p.jpg", seed, out.data());
    if (out == base) {
      ++kept;
    } else {
      for (int64_t r = 0; r < 3 * 32; ++r) {
        for (int64_t x = 0; x < 32; ++x) ASSERT_EQ(out[r * 32 + x], base[r * 32 + 31 - x]);
      }
      ++flipped;
    }
  }
  EXPECT_GT(flipped, 8);
  EXPECT_GT(kept, 8);
  strong.apply(bytes, "p.jpg", 5, out.data());
  strong.apply(bytes, "p.jpg", 5, out2.data());
  EXPECT_EQ(out, out2);
  strong.apply(bytes, "p.jpg", 6, out2.data());
  EXPECT_NE(out, out2);
  // Jitter keeps values within the normalised image of [0, 1].
  for (int64_t c = 0; c < 3; ++c) {
    const float lo = (0.f - strong.transform().mean[c]) / strong.transform().std[c];
    const float hi = (1.f - strong.transform().mean[c]) / strong.transform().std[c];
    for (int64_t i = 0; i < 32 * 32; ++i) {
      ASSERT_GE(out[c * 1024 + i], lo - 1e-4f);
      ASSERT_LE(out[c * 1024 + i], hi + 1e-4f);
    }
  }
}

}  // namespace
}  // namespace bdl::data
