#include "bdl/models/zoo.h"
#include "bdl/nn/activations.h"
#include "bdl/nn/batch_norm.h"
#include "bdl/nn/concat.h"
#include "bdl/nn/dropout.h"
#include "bdl/nn/linear.h"
#include "bdl/nn/lrn.h"
#include "bdl/nn/pooling.h"
#include "bdl/nn/reshape.h"
#include "models/init.h"

namespace bdl::models {
namespace {

// torchvision's BasicConv2d: convolution, BatchNorm (eps 1e-3), ReLU; without
// BatchNorm a biased convolution and ReLU, as in the paper.
std::unique_ptr<nn::Sequential> basic_conv(bool bn, int64_t in, int64_t out, int64_t kernel,
                                           int64_t stride = 1) {
  auto s = std::make_unique<nn::Sequential>();
  s->add(he_conv({.in_channels = in,
                  .out_channels = out,
                  .kernel = kernel,
                  .stride = stride,
                  .padding = kernel / 2,
                  .bias = !bn},
                 bn ? Fan::out : Fan::in),
         "conv");
  if (bn)
    s->add(std::make_unique<nn::BatchNorm>(nn::BatchNormOptions{.num_features = out, .eps = 1e-3f}),
           "bn");
  s->add(std::make_unique<nn::ReLU>(), "relu");
  return s;
}

std::unique_ptr<nn::MaxPool2d> pool(int64_t kernel, int64_t stride, int64_t padding = 0) {
  return std::make_unique<nn::MaxPool2d>(
      nn::Pool2dOptions{.kernel = kernel, .stride = stride, .padding = padding, .ceil_mode = true});
}

// Four branches joined on channels: 1x1; 1x1 then 3x3; 1x1 then 5x5 (3x3 in
// torchvision's BatchNorm model); 3x3 max-pool then 1x1.
std::unique_ptr<nn::Concat> inception(bool bn, int64_t in, int64_t c1, int64_t c3r, int64_t c3,
                                      int64_t c5r, int64_t c5, int64_t pool_proj) {
  auto block = std::make_unique<nn::Concat>(1);
  block->add(basic_conv(bn, in, c1, 1), "branch1");
  auto b2 = std::make_unique<nn::Sequential>();
  b2->add(basic_conv(bn, in, c3r, 1));
  b2->add(basic_conv(bn, c3r, c3, 3));
  block->add(std::move(b2), "branch2");
  auto b3 = std::make_unique<nn::Sequential>();
  b3->add(basic_conv(bn, in, c5r, 1));
  b3->add(basic_conv(bn, c5r, c5, bn ? 3 : 5));
  block->add(std::move(b3), "branch3");
  auto b4 = std::make_unique<nn::Sequential>();
  b4->add(pool(3, 1, 1));
  b4->add(basic_conv(bn, in, pool_proj, 1));
  block->add(std::move(b4), "branch4");
  return block;
}

}  // namespace

std::unique_ptr<nn::Sequential> inception_v1(int64_t classes, bool bn) {
  auto m = std::make_unique<nn::Sequential>();
  auto lrn = [] {
    return std::make_unique<nn::LRN>(
        nn::LrnOptions{.size = 5, .alpha = 1e-4f, .beta = 0.75f, .k = 1.f});
  };
  m->add(basic_conv(bn, 3, 64, 7, 2), "conv1");
  m->add(pool(3, 2), "maxpool1");
  if (!bn) m->add(lrn(), "lrn1");
  m->add(basic_conv(bn, 64, 64, 1), "conv2");
  m->add(basic_conv(bn, 64, 192, 3), "conv3");
  if (!bn) m->add(lrn(), "lrn2");
  m->add(pool(3, 2), "maxpool2");
  m->add(inception(bn, 192, 64, 96, 128, 16, 32, 32), "inception3a");
  m->add(inception(bn, 256, 128, 128, 192, 32, 96, 64), "inception3b");
  m->add(pool(3, 2), "maxpool3");
  m->add(inception(bn, 480, 192, 96, 208, 16, 48, 64), "inception4a");
  m->add(inception(bn, 512, 160, 112, 224, 24, 64, 64), "inception4b");
  m->add(inception(bn, 512, 128, 128, 256, 24, 64, 64), "inception4c");
  m->add(inception(bn, 512, 112, 144, 288, 32, 64, 64), "inception4d");
  m->add(inception(bn, 528, 256, 160, 320, 32, 128, 128), "inception4e");
  m->add(bn ? pool(2, 2) : pool(3, 2), "maxpool4");
  m->add(inception(bn, 832, 256, 160, 320, 32, 128, 128), "inception5a");
  m->add(inception(bn, 832, 384, 192, 384, 48, 128, 128), "inception5b");
  m->add(std::make_unique<nn::GlobalAvgPool2d>(), "avgpool");
  m->add(std::make_unique<nn::Flatten>(), "flatten");
  m->add(std::make_unique<nn::Dropout>(bn ? 0.2f : 0.4f), "dropout");
  m->add(std::make_unique<nn::Linear>(1024, classes), "fc");
  return m;
}

}  // namespace bdl::models
