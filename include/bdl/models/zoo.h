#pragma once

#include <memory>
#include <string>
#include <vector>

#include "bdl/nn/sequential.h"

namespace bdl::models {

// 784-512-256-classes with ReLU, on (batch, 1, 28, 28) or (batch, 784) input.
std::unique_ptr<nn::Sequential> mlp(int64_t classes = 10);

// LeNet-5 for 28x28 single-channel images: conv 5x5x6 (pad 2), ReLU, max-pool 2,
// conv 5x5x16, ReLU, max-pool 2, fc 120, ReLU, fc 84, ReLU, fc classes.
std::unique_ptr<nn::Sequential> lenet5(int64_t classes = 10);

// A model of the zoo by name; an unknown name is an error that lists the known ones.
std::unique_ptr<nn::Module> make(const std::string& name, int64_t classes = 10);
std::vector<std::string> names();

}  // namespace bdl::models
