// Regression with the job API: a small network of the caller's own, arrays in
// memory as the data (what a C++ or Python program hands over), float targets,
// mean squared error, and MAE/RMSE on held-out data.
//   build/examples/regression_example
#include <cmath>
#include <cstdio>

#include "bdl/core/random.h"
#include "bdl/job/train.h"
#include "bdl/nn/activations.h"
#include "bdl/nn/linear.h"
#include "bdl/nn/sequential.h"

namespace {

// y = sin(x0) + x1 * x2 / 2 + noise, for x uniform in [-2, 2]^3.
bdl::data::Dataset make_data(int64_t n, uint64_t seed) {
  bdl::Tensor x({n, 3}), y({n, 1});
  bdl::Rng rng(seed);
  rng.fill_uniform(x.span_f32(), -2.f, 2.f);
  for (int64_t i = 0; i < n; ++i) {
    const float* xi = x.f32() + 3 * i;
    y.f32()[i] =
        std::sin(xi[0]) + xi[1] * xi[2] / 2 + 0.05f * (static_cast<float>(rng.uniform()) - 0.5f);
  }
  return bdl::data::Dataset(x, y, "generated");
}

}  // namespace

int main() {
  using namespace bdl;
  auto model = std::make_shared<nn::Sequential>();
  model->add(std::make_unique<nn::Linear>(3, 64));
  model->add(std::make_unique<nn::Tanh>());
  model->add(std::make_unique<nn::Linear>(64, 64));
  model->add(std::make_unique<nn::Tanh>());
  model->add(std::make_unique<nn::Linear>(64, 1));

  job::TrainSpec spec;
  spec.model.module = model;
  spec.model.sample_shape = {3};
  spec.data.train = make_data(8192, 1);
  spec.data.validation = make_data(2048, 2);
  spec.loss = "mse";
  spec.metrics = {"mae", "rmse"};
  spec.optimizer = {.name = "adam", .lr = 0.003};
  spec.epochs = 20;
  spec.batch_size = 64;
  spec.progress = "quiet";
  try {
    const job::TrainReport report = job::train(spec);
    const optim::Evaluation& v = *report.result.last_validation;
    std::printf("after %lld epochs: held-out MAE %.4f, RMSE %.4f (targets' std about 1.1)\n",
                static_cast<long long>(report.result.epochs), v["mae"], v["rmse"]);
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
