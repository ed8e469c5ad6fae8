#include "bdl/models/zoo.h"
#include "bdl/nn/activations.h"
#include "bdl/nn/batch_norm.h"
#include "bdl/nn/dropout.h"
#include "bdl/nn/linear.h"
#include "bdl/nn/pooling.h"
#include "bdl/nn/reshape.h"
#include "models/init.h"

namespace bdl::models {

std::unique_ptr<nn::Sequential> vgg16(int64_t classes, ImageScale scale) {
  // Channels per convolution, 0 for a 2x2 max-pool (torchvision's configuration D).
  const int64_t config[] = {64, 64,  0,   128, 128, 0,   256, 256, 256,
                            0,  512, 512, 512, 0,   512, 512, 512, 0};
  const bool bn = scale == ImageScale::cifar;
  auto features = std::make_unique<nn::Sequential>();
  int64_t in = 3;
  for (int64_t c : config) {
    if (c == 0) {
      features->add(std::make_unique<nn::MaxPool2d>(2));
      continue;
    }
    features->add(he_conv({.in_channels = in, .out_channels = c, .kernel = 3, .padding = 1}));
    if (bn) features->add(std::make_unique<nn::BatchNorm>(c));
    features->add(std::make_unique<nn::ReLU>());
    in = c;
  }
  auto model = std::make_unique<nn::Sequential>();
  model->add(std::move(features), "features");
  model->add(std::make_unique<nn::Flatten>(), "flatten");
  auto classifier = std::make_unique<nn::Sequential>();
  if (bn) {
    classifier->add(std::make_unique<nn::Linear>(512, classes));
  } else {
    classifier->add(std::make_unique<nn::Linear>(512 * 7 * 7, 4096));
    classifier->add(std::make_unique<nn::ReLU>());
    classifier->add(std::make_unique<nn::Dropout>(0.5f));
    classifier->add(std::make_unique<nn::Linear>(4096, 4096));
    classifier->add(std::make_unique<nn::ReLU>());
    classifier->add(std::make_unique<nn::Dropout>(0.5f));
    classifier->add(std::make_unique<nn::Linear>(4096, classes));
  }
  model->add(std::move(classifier), "classifier");
  return model;
}

}  // namespace bdl::models
