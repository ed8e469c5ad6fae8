// Forward and backward of LeNet-5's layers at batch 128, one benchmark each.
#include <benchmark/benchmark.h>

#include "bdl/core/random.h"
#include "bdl/core/threads.h"
#include "bdl/nn/activations.h"
#include "bdl/nn/conv2d.h"
#include "bdl/nn/linear.h"
#include "bdl/nn/pooling.h"

namespace {

using bdl::Shape;
using bdl::Tensor;

Tensor random_tensor(const Shape& shape) {
  Tensor t(shape);
  bdl::global_rng().fill_uniform(t.span_f32(), -1.f, 1.f);
  return t;
}

// One forward and one backward (input gradient included) per iteration.
void run_layer(benchmark::State& state, bdl::nn::Module& m, const Shape& input_shape) {
  bdl::set_num_threads(static_cast<int>(state.range(0)));
  const Tensor x = random_tensor(input_shape);
  const Tensor gy = random_tensor(m.output_shape(input_shape));
  for (auto _ : state) {
    m.zero_grad();
    benchmark::DoNotOptimize(m.forward(x).raw_data());
    benchmark::DoNotOptimize(&m.backward(x, gy));
  }
  state.SetItemsProcessed(state.iterations() * input_shape[0]);
}

void BM_Conv1(benchmark::State& state) {
  bdl::nn::Conv2d m({.in_channels = 1, .out_channels = 6, .kernel = 5, .padding = 2});
  m.set_needs_input_grad(false);
  run_layer(state, m, {128, 1, 28, 28});
}
void BM_Conv2(benchmark::State& state) {
  bdl::nn::Conv2d m({.in_channels = 6, .out_channels = 16, .kernel = 5});
  run_layer(state, m, {128, 6, 14, 14});
}
void BM_Pool1(benchmark::State& state) {
  bdl::nn::MaxPool2d m(2);
  run_layer(state, m, {128, 6, 28, 28});
}
void BM_ReLU1(benchmark::State& state) {
  bdl::nn::ReLU m;
  run_layer(state, m, {128, 6, 28, 28});
}
void BM_Fc1(benchmark::State& state) {
  bdl::nn::Linear m(400, 120);
  run_layer(state, m, {128, 400});
}
void BM_MlpFc1(benchmark::State& state) {
  bdl::nn::Linear m(784, 512);
  m.set_needs_input_grad(false);
  run_layer(state, m, {128, 784});
}

BENCHMARK(BM_Conv1)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_Conv2)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_Pool1)->Arg(2)->UseRealTime();
BENCHMARK(BM_ReLU1)->Arg(2)->UseRealTime();
BENCHMARK(BM_Fc1)->Arg(2)->UseRealTime();
BENCHMARK(BM_MlpFc1)->Arg(1)->Arg(2)->UseRealTime();

}  // namespace
