// One training iteration (zero_grad, forward, loss, backward, SGD step) of the
// zoo models at batch 128 on random data: the figure bdl train reports as
// samples/s, without data loading.
#include <benchmark/benchmark.h>

#include "bdl/core/random.h"
#include "bdl/core/threads.h"
#include "bdl/models/zoo.h"
#include "bdl/nn/flat_parameters.h"
#include "bdl/nn/losses/cross_entropy.h"
#include "bdl/optim/sgd.h"

namespace {

void BM_TrainStep(benchmark::State& state, const char* model_name) {
  bdl::set_num_threads(static_cast<int>(state.range(0)));
  const int64_t batch = 128;
  auto model = bdl::models::make(model_name);
  bdl::nn::FlatParameters flat = bdl::nn::compact(*model);
  model->set_needs_input_grad(false);
  bdl::Tensor x({batch, 1, 28, 28});
  bdl::global_rng().fill_uniform(x.span_f32(), -1.f, 1.f);
  bdl::Tensor y({batch}, bdl::DType::i64);
  for (int64_t i = 0; i < batch; ++i) y.data<int64_t>()[i] = i % 10;
  bdl::nn::CrossEntropy ce;
  bdl::optim::SGD sgd({.lr = 0.01, .momentum = 0.9});
  for (auto _ : state) {
    model->zero_grad();
    const bdl::Tensor& out = model->forward(x);
    benchmark::DoNotOptimize(ce.forward(out, y));
    model->backward(x, ce.backward(out, y));
    sgd.step(flat.weights.span_f32(), flat.grads.span_f32());
  }
  state.SetItemsProcessed(state.iterations() * batch);
}

BENCHMARK_CAPTURE(BM_TrainStep, lenet5, "lenet5")->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK_CAPTURE(BM_TrainStep, mlp, "mlp")->Arg(1)->Arg(2)->UseRealTime();

}  // namespace
