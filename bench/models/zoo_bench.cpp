// Images per second of a zoo model on random data, training (forward, backward,
// SGD update) or inference (eval mode, forward only), for the side-by-side
// comparison with PyTorch (bench/compare_zoo.py; BENCHMARKS.md), with the
// process's peak resident memory.
//
//   zoo_bench MODEL BATCH IMAGE_SIZE train|infer ITERATIONS [THREADS]
//
// MODEL is a zoo name or an ONNX file (what PyTorch exported: imported ones
// against the zoo's native layers, bench/compare_import.py); for a file whose
// input is integer ids, IMAGE_SIZE is the vocabulary the ids are drawn below.
//
// Prints one JSON object. Warm-up iterations (which create the oneDNN
// primitives and touch every buffer) are excluded from the timing.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "bdl/core/random.h"
#include "bdl/core/threads.h"
#include "bdl/models/zoo.h"
#include "bdl/nn/flat_parameters.h"
#include "bdl/nn/losses/cross_entropy.h"
#include "bdl/onnx/import.h"
#include "bdl/optim/sgd.h"

int main(int argc, char** argv) {
  using namespace bdl;
  if (argc < 6) {
    std::fprintf(stderr,
                 "usage: %s MODEL BATCH IMAGE_SIZE train|infer ITERATIONS [THREADS]\n"
                 "(IMAGE_SIZE is ignored for text models, which take their own length)\n",
                 argv[0]);
    return 2;
  }
  try {
    const std::string name = argv[1];
    const int64_t batch = std::atoll(argv[2]);
    const int64_t size = std::atoll(argv[3]);
    const bool train = std::string(argv[4]) == "train";
    const int iterations = std::atoi(argv[5]);
    set_num_threads(argc > 6 ? std::atoi(argv[6]) : 0);
    manual_seed(1);
    std::unique_ptr<nn::Module> model;
    Shape shape;
    int64_t vocabulary = 0, classes = 0;
    if (name.ends_with(".onnx")) {
      onnx::ImportOptions options;
      options.batch = batch;
      // BDL_BENCH_UNFUSED=1: every node as exported, for the fusion's effect.
      const char* unfused = std::getenv("BDL_BENCH_UNFUSED");
      options.fuse = unfused == nullptr || std::string(unfused) != "1";
      auto imported = onnx::import_model(name, options);
      shape = imported.input_shapes.at(0);
      model = std::move(imported.graph);
      const Tensor probe(shape);
      model->train(false);
      const Shape out = model->forward(probe).shape();
      classes = out.back();
      vocabulary = size;  // read as the vocabulary for integer ids; 0: float inputs
    } else {
      const auto& info = models::find(name);
      model = info.make(info.default_classes);
      shape = info.sample;
      if (info.vocabulary == 0) shape[1] = shape[2] = size;  // text models: their length
      shape.insert(shape.begin(), batch);
      vocabulary = info.vocabulary;
      classes = info.default_classes;
    }
    Tensor x(shape);
    if (vocabulary > 0) {
      for (float& v : x.span_f32()) {
        v = static_cast<float>(global_rng().below(static_cast<uint64_t>(vocabulary)));
      }
    } else {
      global_rng().fill_uniform(x.span_f32(), -1.f, 1.f);
    }
    Tensor y({batch}, DType::i64);
    for (int64_t i = 0; i < batch; ++i) {
      y.data<int64_t>()[i] =
          static_cast<int64_t>(global_rng().below(static_cast<uint64_t>(classes)));
    }
    nn::FlatParameters flat = nn::compact(*model);
    model->set_needs_input_grad(false);
    model->train(train);
    // Inference as `bdl predict` runs it: the kernels' inference form, and each
    // activation released once read (PyTorch's side runs under no_grad).
    // BDL_BENCH_EVAL=1: evaluation mode instead, which keeps every activation.
    const char* eval_only = std::getenv("BDL_BENCH_EVAL");
    model->set_inference(!train && (eval_only == nullptr || std::string(eval_only) != "1"));
    nn::CrossEntropy ce;
    optim::SGD sgd({.lr = 0.01, .momentum = 0.9});
    auto step = [&] {
      if (!train) {
        model->forward(x);
        return;
      }
      model->zero_grad();
      const Tensor& out = model->forward(x);
      ce.forward(out, y);
      model->backward(x, ce.backward(out, y));
      sgd.step(flat.weights.span_f32(), flat.grads.span_f32());
    };
    for (int i = 0; i < 3; ++i) step();
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < iterations; ++i) step();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double flops = model->flops(shape) * (train ? 3.0 : 1.0);
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);  // ru_maxrss: the peak resident set, in KiB on Linux
    std::printf(
        "{\"framework\": \"bdl\", \"model\": \"%s\", \"mode\": \"%s\", \"batch\": %lld, "
        "\"image_size\": %lld, \"threads\": %d, \"iterations\": %d, \"images_per_sec\": %.3f, "
        "\"gflops_per_sec\": %.1f, \"peak_rss_mib\": %.1f}\n",
        name.c_str(), train ? "train" : "infer", static_cast<long long>(batch),
        static_cast<long long>(size), num_threads(), iterations,
        static_cast<double>(batch) * iterations / seconds, flops * iterations / seconds / 1e9,
        static_cast<double>(usage.ru_maxrss) / 1024.0);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "zoo_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
