#include "bdl/models/zoo.h"

namespace bdl::models {

const std::vector<ZooEntry>& zoo() {
  static const std::vector<ZooEntry> all{
      {"lenet5",
       "LeNet-5 for 28x28 grey images",
       {1, 28, 28},
       10,
       0,
       [](int64_t c) { return lenet5(c); }},
      {"lenet5_bn",
       "LeNet-5 with BatchNorm for 28x28 grey images",
       {1, 28, 28},
       10,
       0,
       [](int64_t c) { return lenet5_bn(c); }},
      {"mlp",
       "784-512-256 multi-layer perceptron",
       {1, 28, 28},
       10,
       0,
       [](int64_t c) { return mlp(c); }},
      {"vgg16", "VGG-16, 224x224", {3, 224, 224}, 1000, 0, [](int64_t c) { return vgg16(c); }},
      {"vgg16_cifar",
       "VGG-16 with BatchNorm, 32x32",
       {3, 32, 32},
       10,
       0,
       [](int64_t c) { return vgg16(c, ImageScale::cifar); }},
      {"resnet18",
       "ResNet-18, 224x224",
       {3, 224, 224},
       1000,
       0,
       [](int64_t c) { return resnet18(c); }},
      {"resnet18_cifar",
       "ResNet-18 with a 3x3 stem, 32x32",
       {3, 32, 32},
       10,
       0,
       [](int64_t c) { return resnet18(c, ImageScale::cifar); }},
      {"resnet50",
       "ResNet-50, 224x224",
       {3, 224, 224},
       1000,
       0,
       [](int64_t c) { return resnet50(c); }},
      {"resnet50_cifar",
       "ResNet-50 with a 3x3 stem, 32x32",
       {3, 32, 32},
       10,
       0,
       [](int64_t c) { return resnet50(c, ImageScale::cifar); }},
      {"inception_v1",
       "Inception v1 (GoogLeNet) with LRN, 224x224",
       {3, 224, 224},
       1000,
       0,
       [](int64_t c) { return inception_v1(c); }},
      {"inception_v1_bn",
       "Inception v1 with BatchNorm (torchvision googlenet), 224x224",
       {3, 224, 224},
       1000,
       0,
       [](int64_t c) { return inception_v1(c, true); }},
      {"lstm_classifier",
       "Embedding-LSTM text classifier, sequences of 50 tokens",
       {50},
       2,
       1000,
       [](int64_t c) { return lstm_classifier(c); }},
      {"bert_classifier",
       "BERT-style text classifier (2 encoder layers, d_model 64, 4 heads), sequences of 64 tokens",
       {64},
       2,
       1000,
       [](int64_t c) { return bert_classifier({.classes = c}); }},
  };
  return all;
}

const ZooEntry& find(const std::string& name) {
  for (const auto& m : zoo()) {
    if (m.name == name) return m;
  }
  std::string known;
  for (const auto& m : zoo()) known += (known.empty() ? "" : ", ") + m.name;
  fail("unknown model '", name, "' (known: ", known, ")");
}

std::vector<std::string> names() {
  std::vector<std::string> out;
  for (const auto& m : zoo()) out.push_back(m.name);
  return out;
}

std::unique_ptr<nn::Module> make(const std::string& name, int64_t classes) {
  BDL_CHECK(classes > 0, "model ", name, ": number of classes must be positive");
  return find(name).make(classes);
}

}  // namespace bdl::models
