#pragma once

// Image transforms (issue 13): from a JPEG or PNG file's bytes to a sample of
// C x H x W floats in one pass: the crop (random resized or centre), the
// resize (antialiased bilinear, as torchvision's on tensors and Pillow's), the
// horizontal flip, colour jitter and normalisation. The random draws of a
// sample come from its own seed, which the stream derives from (seed, worker,
// epoch, place in the epoch): a run and its resume see the same samples
// whatever the threads' timing.
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "bdl/data/image.h"

namespace bdl::data {

struct ImageTransform {
  int64_t height = 224, width = 224;  // of the samples made
  int channels = 3;                   // 3: RGB, 1: grey
  // Random resized crop (torchvision's RandomResizedCrop: a region of
  // [min_area, max_area] of the image with an aspect ratio drawn log-uniformly
  // from [min_aspect, max_aspect], 10 tries, then the centre), or the centre
  // crop of evaluation: the image resized so that its short side is
  // max(height, width) / center_fraction, then its centre (ImageNet's 256 ->
  // 224 at 0.875).
  bool random_crop = false;
  double min_area = 0.08, max_area = 1.0;
  double min_aspect = 3.0 / 4.0, max_aspect = 4.0 / 3.0;
  double center_fraction = 0.875;
  bool flip = false;  // horizontal, with probability 1/2
  // Colour jitter: factors drawn from [1 - x, 1 + x] for brightness, contrast
  // and saturation, applied in that order (torchvision draws the order too),
  // each clamped to [0, 1] as torchvision does. No hue jitter.
  float brightness = 0, contrast = 0, saturation = 0;
  // Normalisation of the [0, 1] values: (v - mean) / std per channel.
  std::array<float, 3> mean = {0.485f, 0.456f, 0.406f};
  std::array<float, 3> std = {0.229f, 0.224f, 0.225f};

  bool random() const {
    return random_crop || flip || brightness > 0 || contrast > 0 || saturation > 0;
  }
};

// The --augment presets, for samples of height x width x channels:
//   none      centre crop (evaluation always uses it)
//   flip      centre crop, random horizontal flip
//   standard  random resized crop and flip (the ImageNet training recipe)
//   strong    standard plus colour jitter of 0.4
// Normalisation: ImageNet's mean and deviation for RGB, 0.5 and 0.5 for grey.
ImageTransform image_transform(const std::string& augment, int64_t height, int64_t width,
                               int channels);
const std::vector<std::string>& augment_presets();

// Resamples `region` of `image` (antialiased bilinear, torchvision's
// interpolate(antialias=True) generalised to regions that are not whole
// pixels) into a channels x out_h x out_w block of floats on [0, 255],
// mirrored left to right when `flip`. `work` is scratch that grows once.
void resample(const ImageView& image, int64_t out_h, int64_t out_w, bool flip, float* out,
              std::vector<float>& work);

// The region evaluation's centre crop takes from an image of `size`.
Region center_region(const ImageTransform& transform, ImageSize size);

// One thread's transform: decoder, scratch and the draws of each sample.
class ImageTransformer {
 public:
  explicit ImageTransformer(const ImageTransform& transform);
  const ImageTransform& transform() const { return transform_; }
  // The sample of `bytes` (a JPEG or PNG file) into out[channels * height *
  // width], with the draws of `seed`. Errors name `where`.
  void apply(std::span<const uint8_t> bytes, const std::string& where, uint64_t seed, float* out);

  // The region a random resized crop takes from an image of `size` with the
  // draws of `seed` (exposed for tests).
  Region crop_for(ImageSize size, uint64_t seed) const;

 private:
  ImageTransform transform_;
  ImageDecoder decoder_;
  std::vector<float> work_;
};

}  // namespace bdl::data
