#pragma once

// JPEG and PNG images in and out (issue 13): libjpeg-turbo and libpng. A
// decoder decodes only what a transform needs: a JPEG at the smallest of its
// reduced scales (1/8 to 8/8) that still gives the wanted region enough
// pixels, and only the rows and columns around that region.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace bdl::data {

enum class ImageFormat { unknown, jpeg, png };

// The format the bytes begin with (JPEG's SOI marker, PNG's signature).
ImageFormat image_format(std::span<const uint8_t> bytes);

struct ImageSize {
  int64_t width = 0, height = 0;
};

// A rectangle in an image's pixel coordinates (edges, not centres): the pixels
// x .. x + w - 1 of rows y .. y + h - 1 when whole numbers.
struct Region {
  double x = 0, y = 0, w = 0, h = 0;
};

// Pixels as rows of width x channels bytes (RGB or grey), top row first.
struct ImageView {
  const uint8_t* pixels = nullptr;
  int64_t width = 0, height = 0, channels = 0;
  // Where the wanted region lies in these pixels (decoding at a reduced scale
  // or from a crop moves and scales it).
  Region region;
};

// Decodes images into buffers it keeps (one decoder a thread; nothing is
// allocated per image once the buffers have grown). Errors name `where` (the
// file): not an image, damaged data, a JPEG cut short, a colour space bdl does
// not convert (CMYK).
class ImageDecoder {
 public:
  ImageDecoder();
  ~ImageDecoder();
  ImageDecoder(const ImageDecoder&) = delete;
  ImageDecoder& operator=(const ImageDecoder&) = delete;

  // The size of the full image, read from its header alone.
  ImageSize size(std::span<const uint8_t> bytes, const std::string& where);

  // Decodes `region` of the image (full-size coordinates; all of it when its
  // w or h is 0) into `channels` (1: grey, 3: RGB; grey images are repeated
  // into RGB, colour ones averaged into grey with Rec. 601 weights). A JPEG is
  // decoded at the smallest scale at which the region is still at least
  // need.width x need.height pixels (or at full size), and only the rows and
  // columns that hold the region; a PNG whole. The view lives until the next
  // call.
  ImageView decode(std::span<const uint8_t> bytes, const std::string& where, int channels,
                   Region region = {}, ImageSize need = {});

 private:
  ImageView decode_png(std::span<const uint8_t> bytes, const std::string& where, int channels,
                       Region region);
  ImageView decode_jpeg(std::span<const uint8_t> bytes, const std::string& where, int channels,
                        Region region, ImageSize need);
  struct Jpeg;
  std::unique_ptr<Jpeg> jpeg_;
  std::vector<uint8_t> pixels_;
};

// Writes pixels (rows of width x channels bytes, 1 or 3 channels) as a JPEG
// of `quality` (1-100) or a PNG: written beside `path` and renamed over it (a
// name never shows half a file), not flushed to disk file by file (these are
// written by the thousand).
void write_jpeg(const std::string& path, const uint8_t* pixels, int64_t width, int64_t height,
                int channels, int quality = 90);
void write_png(const std::string& path, const uint8_t* pixels, int64_t width, int64_t height,
               int channels);

// Reads a whole file into `bytes` (reused); errors name the path.
void read_file_bytes(const std::string& path, std::vector<uint8_t>& bytes);

}  // namespace bdl::data
