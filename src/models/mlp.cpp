#include "bdl/models/zoo.h"
#include "bdl/nn/activations.h"
#include "bdl/nn/linear.h"
#include "bdl/nn/reshape.h"

namespace bdl::models {

std::unique_ptr<nn::Sequential> mlp(int64_t classes) {
  auto model = std::make_unique<nn::Sequential>();
  model->add(std::make_unique<nn::Flatten>(), "flatten");
  model->add(std::make_unique<nn::Linear>(784, 512), "fc1");
  model->add(std::make_unique<nn::ReLU>(), "relu1");
  model->add(std::make_unique<nn::Linear>(512, 256), "fc2");
  model->add(std::make_unique<nn::ReLU>(), "relu2");
  model->add(std::make_unique<nn::Linear>(256, classes), "fc3");
  return model;
}

}  // namespace bdl::models
