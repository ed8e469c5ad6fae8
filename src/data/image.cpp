// JPEG through libjpeg-turbo (reduced-scale DCT, column crop and skipped rows
// so that only the wanted region is decoded), PNG through libpng's simplified
// API. libjpeg reports errors by calling error_exit, which must not return: it
// long-jumps back to the decoding call, which then throws. The functions that
// set the jump point hold no objects with destructors.
#include "bdl/data/image.h"

#include <png.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <cstring>

// jpeglib.h needs size_t and FILE declared first.
#include <jerror.h>
#include <jpeglib.h>

#include "bdl/core/error.h"
#include "bdl/core/file.h"

namespace bdl::data {

ImageFormat image_format(std::span<const uint8_t> bytes) {
  if (bytes.size() >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF) {
    return ImageFormat::jpeg;
  }
  static constexpr uint8_t kPng[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (bytes.size() >= 8 && std::memcmp(bytes.data(), kPng, 8) == 0) return ImageFormat::png;
  return ImageFormat::unknown;
}

namespace {

// libjpeg's error manager, with the jump back and the message of the failure.
struct JpegErrors {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  bool cut_short;  // the data ended before the image (a warning to libjpeg)
};

[[noreturn]] void jpeg_fail(j_common_ptr cinfo) {
  auto* e = reinterpret_cast<JpegErrors*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, e->message);
  std::longjmp(e->jump, 1);
}

// Warnings (level -1) are kept quiet, except a file cut short: libjpeg would
// fill the rest with grey, bdl calls it damaged (as Pillow does) and stops at
// once (a small file may declare a huge image). Corrupt-data warnings that
// leave the image readable (extraneous bytes before a marker, common in photo
// collections) pass.
void jpeg_message(j_common_ptr cinfo, int level) {
  auto* e = reinterpret_cast<JpegErrors*>(cinfo->err);
  if (level == -1 && cinfo->err->msg_code == JWRN_JPEG_EOF) {
    e->cut_short = true;
    std::longjmp(e->jump, 1);
  }
}

// The message of a failed decode.
std::string jpeg_failure(const std::string& where, const JpegErrors& e) {
  if (e.cut_short) return where + ": a JPEG cut short (its data ends before the image does)";
  return where + ": not a readable JPEG: " + e.message;
}

// Pillow's limit against decompression bombs (twice its warning threshold).
constexpr int64_t kMaxPixels = 178956970;

void check_pixels(ImageSize s, const std::string& where) {
  BDL_CHECK(s.width * s.height <= kMaxPixels, where, ": an image of ", s.width, "x", s.height,
            " pixels, more than bdl decodes (", kMaxPixels, ")");
}

void no_output(j_common_ptr) {}

}  // namespace

struct ImageDecoder::Jpeg {
  jpeg_decompress_struct cinfo;
  JpegErrors errors;
  Jpeg() {
    cinfo.err = jpeg_std_error(&errors.mgr);
    errors.mgr.error_exit = jpeg_fail;
    errors.mgr.emit_message = jpeg_message;
    errors.mgr.output_message = no_output;
    errors.message[0] = 0;
    jpeg_create_decompress(&cinfo);
  }
  ~Jpeg() { jpeg_destroy_decompress(&cinfo); }
};

ImageDecoder::ImageDecoder() : jpeg_(std::make_unique<Jpeg>()) {}
ImageDecoder::~ImageDecoder() = default;

ImageSize ImageDecoder::size(std::span<const uint8_t> bytes, const std::string& where) {
  switch (image_format(bytes)) {
    case ImageFormat::jpeg: {
      Jpeg& j = *jpeg_;
      j.errors.cut_short = false;
      ImageSize s;
      if (setjmp(j.errors.jump) != 0) {
        jpeg_abort_decompress(&j.cinfo);
        throw Error(jpeg_failure(where, j.errors));
      }
      jpeg_mem_src(&j.cinfo, bytes.data(), bytes.size());
      jpeg_read_header(&j.cinfo, TRUE);
      s.width = j.cinfo.image_width;
      s.height = j.cinfo.image_height;
      jpeg_abort_decompress(&j.cinfo);
      check_pixels(s, where);
      return s;
    }
    case ImageFormat::png: {
      png_image image;
      std::memset(&image, 0, sizeof image);
      image.version = PNG_IMAGE_VERSION;
      const int ok = png_image_begin_read_from_memory(&image, bytes.data(), bytes.size());
      const ImageSize s{image.width, image.height};
      const std::string message = image.message;
      png_image_free(&image);
      BDL_CHECK(ok != 0, where, ": not a readable PNG: ", message);
      check_pixels(s, where);
      return s;
    }
    case ImageFormat::unknown:
      break;
  }
  throw Error(where + ": neither a JPEG nor a PNG (" + std::to_string(bytes.size()) +
              " bytes that begin with neither signature)");
}

ImageView ImageDecoder::decode_png(std::span<const uint8_t> bytes, const std::string& where,
                                   int channels, Region region) {
  ImageView view;
  view.channels = channels;
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  int ok = png_image_begin_read_from_memory(&image, bytes.data(), bytes.size());
  if (ok != 0 && int64_t{image.width} * int64_t{image.height} > kMaxPixels) {
    const ImageSize s{image.width, image.height};
    png_image_free(&image);
    check_pixels(s, where);
  }
  if (ok != 0) {
    // Transparency is dropped by compositing onto black: libpng's rule for
    // an output without alpha and no background given.
    image.format = channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
    pixels_.resize(PNG_IMAGE_SIZE(image));
    ok = png_image_finish_read(&image, nullptr, pixels_.data(), 0, nullptr);
  }
  const std::string message = image.message;
  view.width = image.width;
  view.height = image.height;
  png_image_free(&image);
  BDL_CHECK(ok != 0, where, ": not a readable PNG: ", message);
  view.pixels = pixels_.data();
  view.region = region.w > 0 && region.h > 0 ? region
                                             : Region{0, 0, static_cast<double>(view.width),
                                                      static_cast<double>(view.height)};
  return view;
}

ImageView ImageDecoder::decode(std::span<const uint8_t> bytes, const std::string& where,
                               int channels, Region region, ImageSize need) {
  BDL_CHECK(channels == 1 || channels == 3, where, ": ", channels,
            " channels asked for; images decode to 1 (grey) or 3 (RGB)");
  const ImageFormat format = image_format(bytes);
  if (format == ImageFormat::png) return decode_png(bytes, where, channels, region);
  if (format != ImageFormat::jpeg) (void)size(bytes, where);  // throws, naming what it is
  return decode_jpeg(bytes, where, channels, region, need);
}

ImageView ImageDecoder::decode_jpeg(std::span<const uint8_t> bytes, const std::string& where,
                                    int channels, Region region, ImageSize need) {
  ImageView view;
  view.channels = channels;
  Jpeg& j = *jpeg_;
  jpeg_decompress_struct& c = j.cinfo;
  j.errors.cut_short = false;
  // Only plain values from here to the end: a long jump skips destructors.
  Region want = region;
  if (setjmp(j.errors.jump) != 0) {
    jpeg_abort_decompress(&c);
    throw Error(jpeg_failure(where, j.errors));
  }
  jpeg_mem_src(&c, bytes.data(), bytes.size());
  jpeg_read_header(&c, TRUE);
  const auto full_w = static_cast<int64_t>(c.image_width);
  const auto full_h = static_cast<int64_t>(c.image_height);
  if (want.w <= 0 || want.h <= 0) {
    want = {0, 0, static_cast<double>(full_w), static_cast<double>(full_h)};
  }
  if (static_cast<int64_t>(full_w) * full_h > kMaxPixels) {
    std::snprintf(j.errors.message, sizeof j.errors.message,
                  "%lld x %lld pixels, more than bdl decodes (%lld)",
                  static_cast<long long>(full_w), static_cast<long long>(full_h),
                  static_cast<long long>(kMaxPixels));
    std::longjmp(j.errors.jump, 1);
  }
  if (c.jpeg_color_space == JCS_CMYK || c.jpeg_color_space == JCS_YCCK) {
    std::snprintf(j.errors.message, sizeof j.errors.message,
                  "a CMYK JPEG (bdl decodes grey and colour ones)");
    std::longjmp(j.errors.jump, 1);
  }
  c.out_color_space = channels == 3 ? JCS_RGB : JCS_GRAYSCALE;
  // The smallest scale m/8 at which the region keeps the pixels asked for.
  int m = 8;
  if (need.width > 0 && need.height > 0) {
    for (int k = 1; k < 8; ++k) {
      if (std::floor(want.w * k / 8) >= static_cast<double>(need.width) &&
          std::floor(want.h * k / 8) >= static_cast<double>(need.height)) {
        m = k;
        break;
      }
    }
  }
  c.scale_num = static_cast<unsigned>(m);
  c.scale_denom = 8;
  jpeg_start_decompress(&c);
  // The scaled image is ceil(size * m / 8) pixels; the region scales with it.
  const double sx = static_cast<double>(c.output_width) / static_cast<double>(full_w);
  const double sy = static_cast<double>(c.output_height) / static_cast<double>(full_h);
  const Region r{want.x * sx, want.y * sy, want.w * sx, want.h * sy};
  auto x0 = static_cast<JDIMENSION>(std::clamp<double>(std::floor(r.x), 0, c.output_width - 1));
  const auto x1 = static_cast<JDIMENSION>(
      std::clamp<double>(std::ceil(r.x + r.w), x0 + 1, static_cast<double>(c.output_width)));
  JDIMENSION crop_w = x1 - x0;
  if (crop_w < c.output_width) jpeg_crop_scanline(&c, &x0, &crop_w);  // x0 moves to an iMCU edge
  const auto y0 =
      static_cast<JDIMENSION>(std::clamp<double>(std::floor(r.y), 0, c.output_height - 1));
  const auto y1 = static_cast<JDIMENSION>(
      std::clamp<double>(std::ceil(r.y + r.h), y0 + 1, static_cast<double>(c.output_height)));
  const int64_t width = c.output_width;  // after the crop: the columns decoded
  const int64_t height = y1 - y0;
  pixels_.resize(static_cast<size_t>(width * height * channels));
  if (y0 > 0) jpeg_skip_scanlines(&c, y0);
  const size_t stride = static_cast<size_t>(width) * static_cast<size_t>(channels);
  while (c.output_scanline < y1) {
    JSAMPROW row = pixels_.data() + (c.output_scanline - y0) * stride;
    jpeg_read_scanlines(&c, &row, 1);
  }
  jpeg_abort_decompress(&c);
  view.pixels = pixels_.data();
  view.width = width;
  view.height = height;
  view.region = {r.x - x0, r.y - y0, r.w, r.h};
  return view;
}

namespace {

// Bulk output (an image folder of many thousand files): written beside the
// target and renamed over it, so that a name never shows half a file, but not
// flushed to disk one by one as AtomicFile does.
void write_bytes(const std::string& path, const void* data, size_t size) {
  const std::string temporary = path + ".tmp";
  std::FILE* f = std::fopen(temporary.c_str(), "wb");
  BDL_CHECK(f != nullptr, path, ": cannot be written: ", std::strerror(errno));
  const bool written = std::fwrite(data, 1, size, f) == size;
  const bool closed = std::fclose(f) == 0;
  if (!written || !closed || std::rename(temporary.c_str(), path.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    std::remove(temporary.c_str());
    throw Error(path + ": cannot be written: " + reason);
  }
}

}  // namespace

void write_jpeg(const std::string& path, const uint8_t* pixels, int64_t width, int64_t height,
                int channels, int quality) {
  BDL_CHECK(channels == 1 || channels == 3, path, ": JPEGs of 1 or 3 channels, not ", channels);
  BDL_CHECK(width > 0 && height > 0 && width <= 65500 && height <= 65500, path, ": a ", width, "x",
            height, " image (JPEG takes 1 to 65500 pixels a side)");
  BDL_CHECK(quality >= 1 && quality <= 100, path, ": JPEG quality ", quality, " (1 to 100)");
  jpeg_compress_struct c;
  JpegErrors errors;
  c.err = jpeg_std_error(&errors.mgr);
  errors.mgr.error_exit = jpeg_fail;
  errors.mgr.output_message = no_output;
  unsigned char* out = nullptr;
  unsigned long out_size = 0;  // NOLINT(google-runtime-int): libjpeg's type
  if (setjmp(errors.jump) != 0) {
    jpeg_destroy_compress(&c);
    std::free(out);  // NOLINT(cppcoreguidelines-no-malloc): libjpeg's buffer
    throw Error(path + ": JPEG encoding failed: " + errors.message);
  }
  jpeg_create_compress(&c);
  jpeg_mem_dest(&c, &out, &out_size);
  c.image_width = static_cast<JDIMENSION>(width);
  c.image_height = static_cast<JDIMENSION>(height);
  c.input_components = channels;
  c.in_color_space = channels == 3 ? JCS_RGB : JCS_GRAYSCALE;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, quality, TRUE);
  jpeg_start_compress(&c, TRUE);
  const size_t stride = static_cast<size_t>(width) * static_cast<size_t>(channels);
  while (c.next_scanline < c.image_height) {
    auto* row = const_cast<JSAMPROW>(pixels + c.next_scanline * stride);
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  const std::string bytes(reinterpret_cast<const char*>(out), out_size);
  std::free(out);  // NOLINT(cppcoreguidelines-no-malloc): libjpeg's buffer
  write_bytes(path, bytes.data(), bytes.size());
}

void write_png(const std::string& path, const uint8_t* pixels, int64_t width, int64_t height,
               int channels) {
  BDL_CHECK(channels == 1 || channels == 3, path, ": PNGs of 1 or 3 channels, not ", channels);
  BDL_CHECK(width > 0 && height > 0 && width < (1 << 24) && height < (1 << 24), path, ": a ", width,
            "x", height, " image");
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  image.width = static_cast<png_uint_32>(width);
  image.height = static_cast<png_uint_32>(height);
  image.format = channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
  png_alloc_size_t size = 0;
  int ok = png_image_write_to_memory(&image, nullptr, &size, 0, pixels, 0, nullptr);
  std::vector<uint8_t> bytes(size);
  if (ok != 0) ok = png_image_write_to_memory(&image, bytes.data(), &size, 0, pixels, 0, nullptr);
  const std::string message = image.message;
  png_image_free(&image);
  BDL_CHECK(ok != 0, path, ": PNG encoding failed: ", message);
  write_bytes(path, bytes.data(), size);
}

void read_file_bytes(const std::string& path, std::vector<uint8_t>& bytes) {
  InputFile file(path);
  bytes.resize(file.size());
  if (!bytes.empty()) file.read(bytes.data(), bytes.size(), 0, "its bytes");
}

}  // namespace bdl::data
