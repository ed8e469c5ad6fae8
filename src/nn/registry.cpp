// The layer types a model file can name. Each layer registers itself from its own
// .cpp (RegisterLayers, include/bdl/nn/layer.h); this file only keeps the table.
// bdl_nn is linked whole (CMakeLists.txt) so that no registration is dropped.
#include <map>

#include "bdl/nn/layer.h"

namespace bdl::nn {
namespace {

struct Entry {
  LayerFactory create;
  OptionNames options;
};

std::map<std::string, Entry, std::less<>>& table() {
  static std::map<std::string, Entry, std::less<>> types;
  return types;
}

}  // namespace

void register_layer_type(std::string_view name, LayerFactory create, OptionNames options) {
  const bool added = table().emplace(std::string(name), Entry{create, options}).second;
  BDL_CHECK(added, "layer type '", name, "' is registered twice");
}

std::unique_ptr<Module> create_module(const std::string& type, const Attributes& attributes,
                                      std::vector<std::unique_ptr<Module>> children) {
  const auto it = table().find(type);
  BDL_CHECK(it != table().end(), attributes.owner(), ": unknown module type '", type, "'");
  return it->second.create(attributes, std::move(children));
}

std::vector<std::string> module_options(const std::string& type) {
  const auto it = table().find(type);
  BDL_CHECK(it != table().end(), "unknown module type '", type, "'");
  return it->second.options();
}

std::vector<std::string> module_types() {
  std::vector<std::string> out;
  for (const auto& [name, entry] : table()) out.push_back(name);
  return out;
}

std::string describe_attributes(std::string_view type, const Attributes& attributes,
                                const Attributes& defaults) {
  std::string inside;
  for (const auto& [name, value] : attributes.entries()) {
    bool is_default = false;
    for (const auto& [n, v] : defaults.entries()) is_default |= n == name && v == value;
    if (is_default) continue;
    inside += (inside.empty() ? "" : ", ") + name + "=" + format_value(value);
  }
  return std::string(type) + (inside.empty() ? "" : "(" + inside + ")");
}

}  // namespace bdl::nn
