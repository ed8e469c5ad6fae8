// Trains LeNet-5 on Fashion-MNIST through the library's job API (what `bdl
// train` runs), printing the test accuracy after each epoch and stopping early
// once it reaches a target. The same program runs alone or data-parallel:
//   build/examples/fashion_mnist_example [DATA_DIR]
//   mpirun -np 2 build/examples/fashion_mnist_example
#include <cstdio>

#include "bdl/job/train.h"

int main(int argc, char** argv) {
  using namespace bdl;
  job::TrainSpec spec;
  spec.model.name = "lenet5";
  spec.data.source = argc > 1 ? argv[1] : "fashion-mnist";
  spec.epochs = 3;
  spec.batch_size = 128;
  spec.optimizer = {.name = "sgd", .lr = 0.05, .momentum = 0.9};
  spec.metrics = {"top1", "f1"};
  spec.progress = "quiet";
  spec.on_epoch.push_back([](const optim::EpochRecord& r) {
    const optim::Evaluation& v = *r.validation;
    std::printf("epoch %lld: test top-1 %.4f, macro F1 %.4f, loss %.4f\n",
                static_cast<long long>(r.epoch), v["top1"], v["f1"], v.loss);
    return v["top1"] >= 0.9 ? optim::Decision::stop : optim::Decision::proceed;
  });
  try {
    const job::TrainReport report = job::train(spec);
    std::printf("%lld epochs, %.0f samples/s\n", static_cast<long long>(report.result.epochs),
                report.result.samples_per_sec());
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
