// Forward and backward of LeNet-5's layers at batch 128, one benchmark each.
#include <benchmark/benchmark.h>

#include "bdl/core/random.h"
#include "bdl/core/threads.h"
#include "bdl/nn/activations.h"
#include "bdl/nn/conv2d.h"
#include "bdl/nn/linear.h"
#include "bdl/nn/pooling.h"
#include "bdl/nn/sequential.h"

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
// LeNet's first block (conv1, ReLU, max pooling) on what training passes it:
// conv1's output in oneDNN's channel-blocked layout, and a blocked gradient.
std::unique_ptr<bdl::nn::Sequential> block1() {
  auto s = std::make_unique<bdl::nn::Sequential>();
  s->emplace<bdl::nn::Conv2d>(
      bdl::nn::Conv2dOptions{.in_channels = 1, .out_channels = 6, .kernel = 5, .padding = 2});
  s->emplace<bdl::nn::ReLU>();
  s->emplace<bdl::nn::MaxPool2d>(2);
  s->set_needs_input_grad(false);
  return s;
}

// The block as Sequential runs it: Conv2d + ReLU fused forward, ReLU + pooling
// fused backward.
void BM_Block1Fused(benchmark::State& state) {
  bdl::set_num_threads(static_cast<int>(state.range(0)));
  auto s = block1();
  const Tensor x = random_tensor({128, 1, 28, 28});
  const Tensor gy = s->forward(x).clone();  // the output's (blocked) layout
  for (auto _ : state) {
    s->zero_grad();
    benchmark::DoNotOptimize(s->forward(x).raw_data());
    benchmark::DoNotOptimize(&s->backward(x, gy));
  }
  state.SetItemsProcessed(state.iterations() * 128);
}

// The same modules called one by one: no fusion.
void BM_Block1OneByOne(benchmark::State& state) {
  bdl::set_num_threads(static_cast<int>(state.range(0)));
  auto s = block1();
  const Tensor x = random_tensor({128, 1, 28, 28});
  const Tensor gy = s->forward(x).clone();
  for (auto _ : state) {
    s->zero_grad();
    const Tensor& h1 = (*s)[0].forward(x);
    const Tensor& h2 = (*s)[1].forward(h1);
    benchmark::DoNotOptimize((*s)[2].forward(h2).raw_data());
    const Tensor& g2 = (*s)[2].backward(h2, gy);
    const Tensor& g1 = (*s)[1].backward(h1, g2);
    benchmark::DoNotOptimize(&(*s)[0].backward(x, g1));
  }
  state.SetItemsProcessed(state.iterations() * 128);
}

// The pooling alone on conv1's blocked output (bdl's own loops).
void BM_Pool1Blocked(benchmark::State& state) {
  bdl::set_num_threads(static_cast<int>(state.range(0)));
  bdl::nn::Conv2d conv({.in_channels = 1, .out_channels = 6, .kernel = 5, .padding = 2});
  const Tensor x = conv.forward(random_tensor({128, 1, 28, 28})).clone();
  bdl::nn::MaxPool2d m(2);
  const Tensor gy = m.forward(x).clone();
  for (auto _ : state) {
    benchmark::DoNotOptimize(m.forward(x).raw_data());
    benchmark::DoNotOptimize(&m.backward(x, gy));
  }
  state.SetItemsProcessed(state.iterations() * 128);
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
BENCHMARK(BM_Pool1Blocked)->Arg(2)->UseRealTime();
BENCHMARK(BM_Block1Fused)->Arg(2)->UseRealTime();
BENCHMARK(BM_Block1OneByOne)->Arg(2)->UseRealTime();
BENCHMARK(BM_Fc1)->Arg(2)->UseRealTime();
BENCHMARK(BM_MlpFc1)->Arg(1)->Arg(2)->UseRealTime();

}  // namespace
