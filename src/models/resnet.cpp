#include "bdl/models/zoo.h"
#include "bdl/nn/activations.h"
#include "bdl/nn/batch_norm.h"
#include "bdl/nn/graph.h"
#include "bdl/nn/linear.h"
#include "bdl/nn/pooling.h"
#include "bdl/nn/reshape.h"
#include "models/init.h"

namespace bdl::models {
namespace {

std::unique_ptr<nn::Conv2d> conv(int64_t in, int64_t out, int64_t kernel, int64_t stride) {
  return he_conv({.in_channels = in,
                  .out_channels = out,
                  .kernel = kernel,
                  .stride = stride,
                  .padding = kernel / 2,
                  .bias = false});
}

// The shortcut: the input itself, or a strided 1x1 convolution and BatchNorm
// where the shape changes.
nn::Graph::Node shortcut(nn::Graph& g, nn::Graph::Node x, int64_t in, int64_t out, int64_t stride) {
  if (stride == 1 && in == out) return x;
  auto down = std::make_unique<nn::Sequential>();
  down->add(conv(in, out, 1, stride));
  down->add(std::make_unique<nn::BatchNorm>(out));
  return g.add(std::move(down), {x}, "downsample");
}

// conv3x3-BN-ReLU-conv3x3-BN, plus the shortcut, ReLU.
std::unique_ptr<nn::Graph> basic_block(int64_t in, int64_t out, int64_t stride) {
  auto g = std::make_unique<nn::Graph>();
  const auto x = g->add_input();
  auto n = g->add(conv(in, out, 3, stride), {x}, "conv1");
  n = g->add(std::make_unique<nn::BatchNorm>(out), {n}, "bn1");
  n = g->add(std::make_unique<nn::ReLU>(), {n}, "relu1");
  n = g->add(conv(out, out, 3, 1), {n}, "conv2");
  n = g->add(std::make_unique<nn::BatchNorm>(out), {n}, "bn2");
  const auto s = shortcut(*g, x, in, out, stride);
  n = g->add(std::make_unique<nn::Add>(), {n, s}, "add");
  g->add(std::make_unique<nn::ReLU>(), {n}, "relu2");
  return g;
}

// 1x1 reduce, 3x3 (strided, v1.5), 1x1 expand by 4, each with BatchNorm, plus
// the shortcut, ReLU.
std::unique_ptr<nn::Graph> bottleneck(int64_t in, int64_t width, int64_t stride) {
  const int64_t out = width * 4;
  auto g = std::make_unique<nn::Graph>();
  const auto x = g->add_input();
  auto n = g->add(conv(in, width, 1, 1), {x}, "conv1");
  n = g->add(std::make_unique<nn::BatchNorm>(width), {n}, "bn1");
  n = g->add(std::make_unique<nn::ReLU>(), {n}, "relu1");
  n = g->add(conv(width, width, 3, stride), {n}, "conv2");
  n = g->add(std::make_unique<nn::BatchNorm>(width), {n}, "bn2");
  n = g->add(std::make_unique<nn::ReLU>(), {n}, "relu2");
  n = g->add(conv(width, out, 1, 1), {n}, "conv3");
  n = g->add(std::make_unique<nn::BatchNorm>(out), {n}, "bn3");
  const auto s = shortcut(*g, x, in, out, stride);
  n = g->add(std::make_unique<nn::Add>(), {n, s}, "add");
  g->add(std::make_unique<nn::ReLU>(), {n}, "relu3");
  return g;
}

std::unique_ptr<nn::Sequential> resnet(const std::vector<int64_t>& blocks, bool bottlenecks,
                                       int64_t classes, ImageScale scale) {
  auto model = std::make_unique<nn::Sequential>();
  if (scale == ImageScale::imagenet) {
    model->add(he_conv({.in_channels = 3,
                        .out_channels = 64,
                        .kernel = 7,
                        .stride = 2,
                        .padding = 3,
                        .bias = false}),
               "conv1");
  } else {
    model->add(conv(3, 64, 3, 1), "conv1");
  }
  model->add(std::make_unique<nn::BatchNorm>(64), "bn1");
  model->add(std::make_unique<nn::ReLU>(), "relu");
  if (scale == ImageScale::imagenet) {
    model->add(
        std::make_unique<nn::MaxPool2d>(nn::Pool2dOptions{.kernel = 3, .stride = 2, .padding = 1}),
        "maxpool");
  }
  const int64_t expansion = bottlenecks ? 4 : 1;
  int64_t in = 64;
  for (size_t stage = 0; stage < blocks.size(); ++stage) {
    const int64_t width = 64 << stage;
    auto layer = std::make_unique<nn::Sequential>();
    for (int64_t b = 0; b < blocks[stage]; ++b) {
      const int64_t stride = (stage > 0 && b == 0) ? 2 : 1;
      if (bottlenecks) {
        layer->add(bottleneck(in, width, stride));
      } else {
        layer->add(basic_block(in, width, stride));
      }
      in = width * expansion;
    }
    model->add(std::move(layer), "layer" + std::to_string(stage + 1));
  }
  model->add(std::make_unique<nn::GlobalAvgPool2d>(), "avgpool");
  model->add(std::make_unique<nn::Flatten>(), "flatten");
  model->add(std::make_unique<nn::Linear>(in, classes), "fc");
  return model;
}

}  // namespace

std::unique_ptr<nn::Sequential> resnet18(int64_t classes, ImageScale scale) {
  return resnet({2, 2, 2, 2}, false, classes, scale);
}

std::unique_ptr<nn::Sequential> resnet50(int64_t classes, ImageScale scale) {
  return resnet({3, 4, 6, 3}, true, classes, scale);
}

}  // namespace bdl::models
