#include "bdl/models/zoo.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "bdl/core/random.h"
#include "bdl/nn/batch_norm.h"
#include "bdl/nn/conv2d.h"
#include "bdl/nn/flat_parameters.h"
#include "support/fixtures.h"

namespace bdl::models {
namespace {

int64_t parameter_count(nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.value->numel();
  return n;
}

// Counts as torchvision-style definitions give them: LeNet-5 156 + 2,416 + 48,120 +
// 10,164 + 850; the MLP 401,920 + 131,328 + 2,570.
TEST(Zoo, ParameterCountsAndOutputShapes) {
  auto lenet = lenet5(10);
  EXPECT_EQ(parameter_count(*lenet), 61706);
  EXPECT_EQ(lenet->output_shape({7, 1, 28, 28}), (Shape{7, 10}));
  auto m = mlp(10);
  EXPECT_EQ(parameter_count(*m), 535818);
  EXPECT_EQ(m->output_shape({7, 1, 28, 28}), (Shape{7, 10}));
  EXPECT_EQ(mlp(3)->output_shape({2, 784}), (Shape{2, 3}));
}

// The small models run forward on a batch of one here; the 224x224 ones are
// checked by shape (their forward runs in the training smoke test below and in
// the benchmarks).
TEST(Zoo, ForwardRunsOnBatchOfOne) {
  for (const auto& info : zoo()) {
    auto model = info.make(10);
    Shape in = info.sample;
    in.insert(in.begin(), 1);
    EXPECT_EQ(model->output_shape(in), (Shape{1, 10})) << info.name;
    if (in.size() == 4 && in[2] > 32) continue;  // token ids 0 are valid for text models
    model->eval();
    EXPECT_EQ(model->forward(Tensor(in)).shape(), (Shape{1, 10})) << info.name;
  }
}

// Inference (oneDNN's inference kernels, nothing kept for backward) gives the
// outputs of evaluation mode on the training kernels: the same computation
// without the bookkeeping. Checked on the 32x32 and 28x28 models and Inception
// at 64x64 (LRN, max pooling with ceil mode, concatenations).
// The model's output for x in evaluation mode, then checked to be the same in
// inference mode (which the model is left in) within rtol.
std::vector<float> outputs_in_evaluation_and_inference(nn::Module& model, const Tensor& x,
                                                       double rtol, const std::string& name) {
  model.eval();
  const auto evaluation = model.forward(x).contiguous().to_vector();
  model.set_inference(true);
  const auto inference = model.forward(x).contiguous().to_vector();
  EXPECT_EQ(evaluation.size(), inference.size()) << name;
  for (size_t i = 0; i < evaluation.size() && i < inference.size(); ++i) {
    EXPECT_NEAR(inference[i], evaluation[i], rtol * (1 + std::fabs(evaluation[i])))
        << name << " output " << i;
    if (std::fabs(inference[i] - evaluation[i]) > rtol * (1 + std::fabs(evaluation[i]))) break;
  }
  return evaluation;
}

TEST(Zoo, InferenceGivesTheOutputsOfEvaluationMode) {
  for (const auto& info : zoo()) {
    const bool inception = info.name.rfind("inception", 0) == 0;
    const bool large = info.sample.size() == 3 && info.sample[1] > 32;
    if (info.vocabulary > 0 || (large && !inception)) continue;
    Shape in = info.sample;
    if (inception) in[1] = in[2] = 64;
    in.insert(in.begin(), 2);
    auto model = info.make(10);
    Tensor x(in);
    global_rng().fill_uniform(x.span_f32(), -1, 1);
    outputs_in_evaluation_and_inference(*model, x, 1e-5, info.name);
  }
}

// In inference, containers release each activation once the layers after it
// have read it (Module::release_output): a forward keeps a few, not one per
// layer, and gives the same outputs (InferenceGivesTheOutputsOfEvaluationMode).
TEST(Zoo, InferenceReleasesActivationsOnceRead) {
  auto held = [](nn::Module& root) {
    int count = 0;
    std::vector<nn::Module*> stack{&root};
    while (!stack.empty()) {
      nn::Module* m = stack.back();
      stack.pop_back();
      if (m->output().defined() && m->children().empty()) ++count;
      for (nn::Module* c : m->children()) stack.push_back(c);
    }
    return count;
  };
  for (const char* name : {"resnet18", "inception_v1_bn"}) {
    auto model = models::make(name, 10);
    model->eval();
    Tensor x({2, 3, 64, 64});
    global_rng().fill_uniform(x.span_f32(), -1, 1);
    model->forward(x);
    const int evaluation = held(*model);
    model->set_inference(true);
    model->forward(x);
    const int inference = held(*model);
    EXPECT_LT(inference * 10, evaluation) << name << ": " << inference << " layers hold outputs, "
                                          << evaluation << " in evaluation mode";
  }
}

// In inference, every BatchNorm after a convolution is folded into it, with
// the ReLU and the residual addition after it where nothing else reads the
// intermediate results (Conv2d::forward_fused): the outputs are evaluation
// mode's with non-trivial statistics (random means, variances, scales, shifts),
// and the fused chains are where they should be.
TEST(Zoo, InferenceFoldsBatchNormAndFusesWhatFollows) {
  auto walk = [](nn::Module& root, auto&& visit) {
    std::vector<nn::Module*> stack{&root};
    while (!stack.empty()) {
      nn::Module* m = stack.back();
      stack.pop_back();
      visit(*m);
      for (nn::Module* c : m->children()) stack.push_back(c);
    }
  };
  struct Expect {
    const char* model;
    int convs, bn_relu, bn, bn_add_relu;  // convolutions, and how many ran each fusion
  };
  // ResNet-18: the stem and each block's first conv fuse BN+ReLU, its second
  // BN+add+ReLU where the shortcut is the block input (5 of 8 blocks), BN
  // alone where it is a downsampling convolution computed after it; the 3
  // downsampling convolutions fold their BN. Inception v1: every conv is
  // conv-BN-ReLU.
  for (const Expect& want :
       {Expect{"resnet18", 20, 9, 6, 5}, Expect{"inception_v1_bn", 57, 57, 0, 0}}) {
    manual_seed(6);
    auto model = models::make(want.model, 10);
    walk(*model, [](nn::Module& m) {
      if (auto* bn = dynamic_cast<nn::BatchNorm*>(&m)) {
        global_rng().fill_uniform(bn->running_mean().span_f32(), -0.5f, 0.5f);
        global_rng().fill_uniform(bn->running_var().span_f32(), 0.3f, 2.f);
        global_rng().fill_uniform(bn->weight().span_f32(), 0.5f, 1.5f);
        global_rng().fill_uniform(bn->bias().span_f32(), -0.5f, 0.5f);
      }
    });
    Tensor x({2, 3, 64, 64});
    global_rng().fill_uniform(x.span_f32(), -1, 1);
    const auto evaluation = outputs_in_evaluation_and_inference(*model, x, 1e-4, want.model);
    std::map<std::string, int> fusions;
    int convs = 0;
    walk(*model, [&](nn::Module& m) {
      if (auto* conv = dynamic_cast<nn::Conv2d*>(&m)) {
        ++convs;
        ++fusions[conv->last_fusion()];
      }
    });
    EXPECT_EQ(convs, want.convs) << want.model;
    EXPECT_EQ(fusions["bn+relu"], want.bn_relu) << want.model;
    // The addition is fused only where oneDNN keeps the convolution's kernel
    // with it (Conv2d::forward_fused); otherwise the BatchNorm alone is folded.
    EXPECT_EQ(fusions["bn"] + fusions["bn+add+relu"], want.bn + want.bn_add_relu) << want.model;
    EXPECT_LE(fusions["bn+add+relu"], want.bn_add_relu) << want.model;
    // Back to evaluation mode: the modules run one by one again.
    model->set_inference(false);
    const auto again = model->forward(x).contiguous().to_vector();
    EXPECT_EQ(again, evaluation) << want.model;
  }
}

TEST(Zoo, BackwardAfterAnInferenceForwardIsAnError) {
  auto model = lenet5(10);
  model->set_inference(true);
  const Tensor x({2, 1, 28, 28});
  const Tensor& y = model->forward(x);
  EXPECT_THROW(model->backward(x, Tensor::full(y.shape(), 1.f)), Error);
  model->set_inference(false);
  model->forward(x);
  EXPECT_NO_THROW(model->backward(x, Tensor::full(y.shape(), 1.f)));
}

// Containers recycle each gradient once it is read (Module::release_grad_input):
// a backward pass maps a few large gradient blocks instead of one per layer,
// iterations after the first few map none (the pool's best fits settle within
// three), and the gradients are those of a run without
// recycling, bit for bit. ResNet-18 has Graph blocks inside Sequential stages
// and a ReLU fused with max pooling; Inception v1 has Concat branches.
TEST(Zoo, BackwardRecyclesGradientsOnceRead) {
  struct Run {
    std::vector<float> grads;
    int64_t first = 0, later = 0;  // Storage blocks mapped by the first and the last backwards
  };
  auto run = [](const std::string& name, Shape in, bool recycling) {
    const bool before = Storage::set_recycling(recycling);
    manual_seed(4);
    auto model = models::make(name, 10);
    nn::FlatParameters flat = nn::compact(*model);
    model->set_needs_input_grad(false);
    Tensor x(in);
    global_rng().fill_uniform(x.span_f32(), -1, 1);
    Tensor dy({in[0], 10});
    global_rng().fill_uniform(dy.span_f32(), -1, 1);
    Run r;
    for (int step = 0; step < 6; ++step) {
      model->zero_grad();
      model->forward(x);
      const int64_t start = Storage::allocations();
      model->backward(x, dy);
      if (step == 0) r.first = Storage::allocations() - start;
      if (step >= 3) r.later += Storage::allocations() - start;
    }
    r.grads = flat.grads.to_vector();
    Storage::set_recycling(before);
    return r;
  };
  for (const auto& [name, in] : {std::pair<std::string, Shape>{"resnet18", {4, 3, 64, 64}},
                                 {"inception_v1_bn", {2, 3, 64, 64}}}) {
    const Run kept = run(name, in, false);
    const Run recycled = run(name, in, true);
    EXPECT_EQ(recycled.grads, kept.grads) << name;
    EXPECT_EQ(recycled.later, 0) << name;
    if (name == "resnet18") {
      // One gradient per layer kept, against a few.
      EXPECT_LT(recycled.first + 20, kept.first)
          << "blocks mapped: " << recycled.first << " recycled, " << kept.first << " kept";
    }
  }
}

// Names and shapes of every parameter and buffer as torchvision has them
// (tests/fixtures/zoo.json from tools/fixtures/gen_zoo.py), so that torchvision
// weights load by name.
TEST(Zoo, MatchesTorchvisionNameForName) {
  const auto fixture = bdl::testing::load_fixture("zoo.json");
  for (const auto& [name, expected] : fixture.items()) {
    auto model = make(name, 1000);
    std::vector<std::pair<std::string, Shape>> params, buffers;
    for (const auto& p : model->parameters()) params.emplace_back(p.name, p.value->shape());
    for (const auto& b : model->buffers()) buffers.emplace_back(b.name, b.value->shape());
    std::vector<std::pair<std::string, Shape>> want_params, want_buffers;
    for (const auto& p : expected["parameters"]) want_params.emplace_back(p[0], p[1].get<Shape>());
    for (const auto& b : expected["buffers"]) want_buffers.emplace_back(b[0], b[1].get<Shape>());
    auto sorted = [](auto v) {
      std::sort(v.begin(), v.end());
      return v;
    };
    EXPECT_EQ(sorted(params), sorted(want_params)) << name;
    EXPECT_EQ(sorted(buffers), sorted(want_buffers)) << name;
  }
}

// Published counts: ResNet-18 11,689,512 and 1.82 G multiply-adds; ResNet-50
// 25,557,032 and 4.09 G; VGG-16 138,357,544 and 15.5 G; torchvision's GoogLeNet
// 6,624,904 and 1.5 G.
TEST(Zoo, ImageNetModelSizesAndFlops) {
  const struct {
    const char* name;
    int64_t parameters;
    double gmacs;
  } cases[] = {{"resnet18", 11689512, 1.82},
               {"resnet50", 25557032, 4.09},
               {"vgg16", 138357544, 15.47},
               {"inception_v1_bn", 6624904, 1.50}};
  for (const auto& c : cases) {
    auto model = make(c.name, 1000);
    EXPECT_EQ(parameter_count(*model), c.parameters) << c.name;
    EXPECT_NEAR(model->flops({1, 3, 224, 224}) / 2e9, c.gmacs, 0.02 * c.gmacs) << c.name;
    EXPECT_EQ(model->output_shape({2, 3, 224, 224}), (Shape{2, 1000})) << c.name;
  }
}

TEST(Zoo, LeNet5RejectsWrongImageSize) {
  auto model = lenet5(10);
  try {
    model->forward(Tensor({2, 1, 32, 32}));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "fc1: input of shape [2, 576] does not end in in_features 400");
  }
}

TEST(Zoo, NamesParametersLikePyTorch) {
  auto model = lenet5(10);
  std::vector<std::string> names;
  for (const auto& p : model->parameters()) names.push_back(p.name);
  EXPECT_EQ(names, (std::vector<std::string>{"conv1.weight", "conv1.bias", "conv2.weight",
                                             "conv2.bias", "fc1.weight", "fc1.bias", "fc2.weight",
                                             "fc2.bias", "fc3.weight", "fc3.bias"}));
}

TEST(Zoo, UnknownNameListsKnownModels) {
  try {
    make("resnet9000");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(
        e.what(),
        "unknown model 'resnet9000' (known: lenet5, lenet5_bn, mlp, vgg16, vgg16_cifar, resnet18, "
        "resnet18_cifar, resnet50, resnet50_cifar, inception_v1, inception_v1_bn, "
        "lstm_classifier, bert_classifier)");
  }
}

}  // namespace
}  // namespace bdl::models
