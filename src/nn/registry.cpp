// The module types a model file can name. A layer describes itself
// (Module::attributes) and rebuilds itself (its create function); this table only
// maps type names to those functions.
#include <algorithm>
#include <functional>
#include <map>

#include "bdl/nn/activations.h"
#include "bdl/nn/batch_norm.h"
#include "bdl/nn/concat.h"
#include "bdl/nn/conv2d.h"
#include "bdl/nn/conv_transpose2d.h"
#include "bdl/nn/dropout.h"
#include "bdl/nn/elementwise.h"
#include "bdl/nn/embedding.h"
#include "bdl/nn/graph.h"
#include "bdl/nn/linear.h"
#include "bdl/nn/lrn.h"
#include "bdl/nn/matmul.h"
#include "bdl/nn/pooling.h"
#include "bdl/nn/recurrent.h"
#include "bdl/nn/reshape.h"
#include "bdl/nn/resize.h"
#include "bdl/nn/sequential.h"
#include "bdl/nn/shape_ops.h"
#include "bdl/nn/softmax.h"

namespace bdl::nn {
namespace {

using Children = std::vector<std::unique_ptr<Module>>;
using Factory = std::function<std::unique_ptr<Module>(const Attributes&, Children)>;

// A layer without children, built by its create(attributes).
Factory leaf(std::unique_ptr<Module> (*create)(const Attributes&)) {
  return [create](const Attributes& a, Children children) {
    BDL_CHECK(children.empty(), a.owner(), ": a ", a.owner(), " has no child modules, found ",
              children.size());
    return create(a);
  };
}
// A layer without attributes or children.
template <typename M>
Factory plain() {
  return leaf([](const Attributes&) -> std::unique_ptr<Module> { return std::make_unique<M>(); });
}

std::unique_ptr<Module> sequential(const Attributes&, Children children) {
  auto s = std::make_unique<Sequential>();
  for (auto& c : children) s->add(std::move(c));
  return s;
}

std::unique_ptr<Module> time_distributed(const Attributes& a, Children children) {
  BDL_CHECK(children.size() == 1, a.owner(), ": TimeDistributed wraps one module, found ",
            children.size());
  return std::make_unique<TimeDistributed>(std::move(children[0]));
}

const std::map<std::string, Factory>& factories() {
  static const std::map<std::string, Factory> table = {
      {"Add", plain<Add>()},
      {"AvgPool2d", leaf(&AvgPool2d::create)},
      {"BatchNorm", leaf(&BatchNorm::create)},
      {"Binary", leaf(&Binary::create)},
      {"Concat", &Concat::create},
      {"Conv2d", leaf(&Conv2d::create)},
      {"ConvTranspose2d", leaf(&ConvTranspose2d::create)},
      {"Dropout", leaf(&Dropout::create)},
      {"ELU", leaf(&ELU::create)},
      {"Embedding", leaf(&Embedding::create)},
      {"Flatten", plain<Flatten>()},
      {"Gather", leaf(&Gather::create)},
      {"GELU", leaf(&GELU::create)},
      {"GlobalAvgPool2d", plain<GlobalAvgPool2d>()},
      {"GlobalMaxPool2d", plain<GlobalMaxPool2d>()},
      {"Graph", &Graph::create},
      {"GRU", leaf(&GRU::create)},
      {"HardTanh", leaf(&HardTanh::create)},
      {"Identity", plain<Identity>()},
      {"JoinTable", leaf(&JoinTable::create)},
      {"LeakyReLU", leaf(&LeakyReLU::create)},
      {"Linear", leaf(&Linear::create)},
      {"LogSoftMax", leaf(&LogSoftMax::create)},
      {"LRN", leaf(&LRN::create)},
      {"LSTM", leaf(&LSTM::create)},
      {"MatMul", leaf(&MatMul::create)},
      {"MaxPool2d", leaf(&MaxPool2d::create)},
      {"Pad", leaf(&Pad::create)},
      {"PReLU", leaf(&PReLU::create)},
      {"ReLU", plain<ReLU>()},
      {"Reduce", leaf(&Reduce::create)},
      {"Reshape", leaf(&Reshape::create)},
      {"Resize", leaf(&Resize::create)},
      {"Sequential", &sequential},
      {"Sigmoid", plain<Sigmoid>()},
      {"Slice", leaf(&Slice::create)},
      {"SoftMax", leaf(&SoftMax::create)},
      {"SoftPlus", leaf(&SoftPlus::create)},
      {"Tanh", plain<Tanh>()},
      {"TimeDistributed", &time_distributed},
      {"Transpose", leaf(&Transpose::create)},
      {"Unary", leaf(&Unary::create)},
      {"View", leaf(&View::create)},
  };
  return table;
}

}  // namespace

std::unique_ptr<Module> create_module(const std::string& type, const Attributes& attributes,
                                      std::vector<std::unique_ptr<Module>> children) {
  const auto& table = factories();
  const auto it = table.find(type);
  BDL_CHECK(it != table.end(), attributes.owner(), ": unknown module type '", type, "'");
  return it->second(attributes, std::move(children));
}

std::vector<std::string> module_types() {
  std::vector<std::string> out;
  for (const auto& [name, f] : factories()) out.push_back(name);
  return out;
}

}  // namespace bdl::nn
