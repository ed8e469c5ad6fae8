#pragma once

// What the Keras layer converters share: values of the graph being built (with
// the layout they are held in), a layer's config and weights, and how to add
// bdl modules. The converters live in layers.cpp, the model structure
// (Sequential, functional, the two file formats) in import.cpp.
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "bdl/keras/import.h"
#include "bdl/nn/graph.h"

namespace bdl::keras {

using Json = nlohmann::json;

// A value of the graph. An image Keras holds as (N, H, W, C) is held as
// (N, C, H, W) (channels_first), which bdl's convolutions and pooling take;
// everything else is held as Keras holds it.
struct Value {
  nn::Graph::Node node = -1;
  Shape shape;  // as held, batch first
  bool channels_first = false;
  bool integer = false;  // token ids
};

// One Keras layer as a converter sees it.
struct LayerSpec {
  std::string class_name;
  std::string name;
  Json config;
  std::vector<Tensor> weights;  // in Keras's order (kernel, bias; gamma, beta, ...)
  // A number among the call's arguments (Keras 3's operations: x + 3.0), and
  // whether it came before the tensor.
  std::optional<float> scalar = {};
  bool scalar_first = false;

  // config[key], or `fallback` when absent or null.
  template <typename T>
  T get(const std::string& key, T fallback) const {
    const auto it = config.find(key);
    return it == config.end() || it->is_null() ? fallback : it->template get<T>();
  }
  // The i-th weight with the shape Keras gives it (a view when the file holds
  // the same values in another shape), or an error naming the layer.
  Tensor weight(size_t i, const Shape& shape) const;
};

class Builder {
 public:
  Builder(nn::Graph& graph, std::string file) : graph_(graph), file_(std::move(file)) {}

  // Adds a module fed by `from`; its output shape comes from the module.
  Value add(std::unique_ptr<nn::Module> module, const std::vector<Value>& from,
            const std::string& name, bool channels_first);
  // The value as Keras holds it (N, H, W, C), or as bdl's layers want it (N, C, H, W).
  Value keras_layout(const Value& v, const std::string& name);
  Value channels_first(const Value& v, const std::string& name);
  // An activation by Keras's name ("relu", "softmax", ...) after a layer.
  Value activate(const Value& v, const std::string& activation, const std::string& name);

  const std::string& file() const { return file_; }
  nn::Graph& graph() { return graph_; }

 private:
  nn::Graph& graph_;
  std::string file_;
};

using Converter = Value (*)(Builder&, const LayerSpec&, const std::vector<Value>&);
// The converter of a Keras layer class, or null.
Converter find_converter(const std::string& class_name);
std::vector<std::string> supported_layers();

template <typename... Parts>
[[noreturn]] void unsupported(Parts&&... parts) {
  throw Unsupported(detail::concat(std::forward<Parts>(parts)...));
}

}  // namespace bdl::keras
