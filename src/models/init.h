#pragma once

#include <cmath>

#include "bdl/core/random.h"
#include "bdl/nn/conv2d.h"

namespace bdl::models {

enum class Fan { in, out };

// He et al.'s initialisation: normal(0, sqrt(2 / fan)) for convolution weights,
// zero biases. torchvision's networks use the fan-out form, which BatchNorm
// after each convolution makes harmless; a network without BatchNorm needs the
// fan-in form to keep activations at scale through channel-reducing 1x1s.
inline std::unique_ptr<nn::Conv2d> he_conv(nn::Conv2dOptions o, Fan mode = Fan::out) {
  auto conv = std::make_unique<nn::Conv2d>(o);
  const auto fan = static_cast<float>(
      (mode == Fan::out ? o.out_channels : o.in_channels / o.groups) * o.kernel.h * o.kernel.w);
  global_rng().fill_normal(conv->weight().span_f32(), 0.f, std::sqrt(2.f / fan));
  if (o.bias) conv->bias().zero();
  return conv;
}

}  // namespace bdl::models
