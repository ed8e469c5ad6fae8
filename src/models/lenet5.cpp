#include "bdl/models/zoo.h"
#include "bdl/nn/activations.h"
#include "bdl/nn/batch_norm.h"
#include "bdl/nn/conv2d.h"
#include "bdl/nn/linear.h"
#include "bdl/nn/pooling.h"
#include "bdl/nn/reshape.h"

namespace bdl::models {

std::unique_ptr<nn::Sequential> lenet5(int64_t classes) {
  auto model = std::make_unique<nn::Sequential>();
  model->add(std::make_unique<nn::Conv2d>(
                 nn::Conv2dOptions{.in_channels = 1, .out_channels = 6, .kernel = 5, .padding = 2}),
             "conv1");
  model->add(std::make_unique<nn::ReLU>(), "relu1");
  model->add(std::make_unique<nn::MaxPool2d>(2), "pool1");
  model->add(std::make_unique<nn::Conv2d>(
                 nn::Conv2dOptions{.in_channels = 6, .out_channels = 16, .kernel = 5}),
             "conv2");
  model->add(std::make_unique<nn::ReLU>(), "relu2");
  model->add(std::make_unique<nn::MaxPool2d>(2), "pool2");
  model->add(std::make_unique<nn::Flatten>(), "flatten");
  model->add(std::make_unique<nn::Linear>(16 * 5 * 5, 120), "fc1");
  model->add(std::make_unique<nn::ReLU>(), "relu3");
  model->add(std::make_unique<nn::Linear>(120, 84), "fc2");
  model->add(std::make_unique<nn::ReLU>(), "relu4");
  model->add(std::make_unique<nn::Linear>(84, classes), "fc3");
  return model;
}

std::unique_ptr<nn::Sequential> lenet5_bn(int64_t classes) {
  auto model = std::make_unique<nn::Sequential>();
  auto bn = [](int64_t c) { return std::make_unique<nn::BatchNorm>(c); };
  model->add(std::make_unique<nn::Conv2d>(nn::Conv2dOptions{
                 .in_channels = 1, .out_channels = 6, .kernel = 5, .padding = 2, .bias = false}),
             "conv1");
  model->add(bn(6), "bn1");
  model->add(std::make_unique<nn::ReLU>(), "relu1");
  model->add(std::make_unique<nn::MaxPool2d>(2), "pool1");
  model->add(std::make_unique<nn::Conv2d>(nn::Conv2dOptions{
                 .in_channels = 6, .out_channels = 16, .kernel = 5, .bias = false}),
             "conv2");
  model->add(bn(16), "bn2");
  model->add(std::make_unique<nn::ReLU>(), "relu2");
  model->add(std::make_unique<nn::MaxPool2d>(2), "pool2");
  model->add(std::make_unique<nn::Flatten>(), "flatten");
  model->add(std::make_unique<nn::Linear>(16 * 5 * 5, 120, false), "fc1");
  model->add(bn(120), "bn3");
  model->add(std::make_unique<nn::ReLU>(), "relu3");
  model->add(std::make_unique<nn::Linear>(120, 84, false), "fc2");
  model->add(bn(84), "bn4");
  model->add(std::make_unique<nn::ReLU>(), "relu4");
  model->add(std::make_unique<nn::Linear>(84, classes), "fc3");
  return model;
}

}  // namespace bdl::models
