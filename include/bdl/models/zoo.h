#pragma once

#include <functional>
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
// LeNet-5 with BatchNorm after every convolution and hidden fully connected
// layer (which then have no bias): the small BN network of the large-batch
// experiment (docs/large-batch.md).
std::unique_ptr<nn::Sequential> lenet5_bn(int64_t classes = 10);

// Image networks for 3-channel input. The ImageNet forms take 224x224 (any size
// from 32 for ResNet and Inception, which end in global pooling; VGG needs 224);
// the CIFAR forms take 32x32. Layer and parameter names follow torchvision, so
// its weights map one to one.
enum class ImageScale { imagenet, cifar };

// VGG-16 (Simonyan and Zisserman): 13 3x3 convolutions in 5 stages and three
// fully connected layers with dropout 0.5. CIFAR: BatchNorm after each
// convolution and one 512 -> classes layer.
std::unique_ptr<nn::Sequential> vgg16(int64_t classes = 1000,
                                      ImageScale scale = ImageScale::imagenet);

// ResNet-18 and ResNet-50 (He et al.), torchvision's v1.5 (stride in the 3x3 of
// the bottleneck). CIFAR: a 3x3 stem without max-pooling.
std::unique_ptr<nn::Sequential> resnet18(int64_t classes = 1000,
                                         ImageScale scale = ImageScale::imagenet);
std::unique_ptr<nn::Sequential> resnet50(int64_t classes = 1000,
                                         ImageScale scale = ImageScale::imagenet);

// Inception v1 / GoogLeNet (Szegedy et al. 2014) as in the paper: biased
// convolutions, LRN after the first two stages, nine inception blocks with 5x5
// branches, global average pooling, dropout 0.4. With batch_norm: torchvision's
// googlenet (aux_logits=False): BatchNorm after every convolution instead of LRN,
// 3x3 in the "5x5" branch as torchvision has it, dropout 0.2.
std::unique_ptr<nn::Sequential> inception_v1(int64_t classes = 1000, bool batch_norm = false);

// A text classifier: token ids (batch, time) -> Embedding(vocabulary, 64) ->
// LSTM(64 -> 128, last state) -> Linear(128 -> classes).
std::unique_ptr<nn::Sequential> lstm_classifier(int64_t classes = 2, int64_t vocabulary = 1000);

// A BERT-style text classifier: token ids (batch, length) -> token embeddings
// plus learned positions, LayerNorm, dropout -> `layers` post-norm transformer
// encoder layers with GELU -> the mean over positions -> Linear(d_model ->
// classes). The default is a small BERT for two cores (0.17 M parameters).
struct BertOptions {
  int64_t classes = 2;
  int64_t vocabulary = 1000;
  int64_t length = 64;
  int64_t d_model = 64;
  int64_t heads = 4;
  int64_t dim_feedforward = 256;
  int64_t layers = 2;
  float dropout = 0.1f;
};
std::unique_ptr<nn::Sequential> bert_classifier(const BertOptions& options = {});

// The zoo by name, for the `bdl` command.
struct ZooEntry {
  std::string name;
  std::string description;
  Shape sample;  // the input shape of one sample
  int64_t default_classes;
  int64_t vocabulary;  // token ids in [0, vocabulary) for text models; 0 for images
  std::function<std::unique_ptr<nn::Module>(int64_t classes)> make;
};
const std::vector<ZooEntry>& zoo();
// The entry of that name; an unknown name is an error that lists the known ones.
const ZooEntry& find(const std::string& name);

// A model of the zoo by name; an unknown name is an error that lists the known ones.
std::unique_ptr<nn::Module> make(const std::string& name, int64_t classes = 10);
std::vector<std::string> names();

}  // namespace bdl::models
