#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "bdl/core/error.h"

namespace bdl::nn {

class Module;

// A layer's configuration as named values: what a model file stores for it. Each
// layer writes its own attributes (Module::attributes) and reads them back in its
// create() function, so the file format has no per-layer schema to edit when a
// layer is added. Reading checks presence and type and names the layer and the
// attribute at fault.
class Attributes {
 public:
  using Value = std::variant<int64_t, double, std::string, std::vector<int64_t>,
                             std::vector<double>, std::vector<std::string>>;

  explicit Attributes(std::string owner = "") : owner_(std::move(owner)) {}

  Attributes& set(const std::string& name, int64_t value) { return put(name, Value{value}); }
  Attributes& set(const std::string& name, int value) { return put(name, Value{int64_t{value}}); }
  Attributes& set(const std::string& name, bool value) { return put(name, Value{int64_t{value}}); }
  Attributes& set(const std::string& name, double value) { return put(name, Value{value}); }
  Attributes& set(const std::string& name, float value) { return put(name, Value{double{value}}); }
  Attributes& set(const std::string& name, std::string value) {
    return put(name, Value{std::move(value)});
  }
  Attributes& set(const std::string& name, const char* value) {
    return put(name, Value{std::string(value)});
  }
  Attributes& set(const std::string& name, std::vector<int64_t> value) {
    return put(name, Value{std::move(value)});
  }
  Attributes& set(const std::string& name, std::vector<double> value) {
    return put(name, Value{std::move(value)});
  }
  Attributes& set(const std::string& name, std::vector<std::string> value) {
    return put(name, Value{std::move(value)});
  }
  Attributes& put(const std::string& name, Value value);

  bool has(const std::string& name) const { return find(name) != nullptr; }
  int64_t integer(const std::string& name) const;
  int64_t integer(const std::string& name, int64_t fallback) const;
  bool flag(const std::string& name, bool fallback) const { return integer(name, fallback) != 0; }
  double real(const std::string& name) const;
  double real(const std::string& name, double fallback) const;
  const std::string& text(const std::string& name) const;
  const std::vector<int64_t>& integers(const std::string& name) const;
  const std::vector<double>& reals(const std::string& name) const;
  const std::vector<std::string>& texts(const std::string& name) const;
  // A list of exactly `count` integers, each at least `low` (a kernel size, a
  // padding pair).
  const std::vector<int64_t>& integers(const std::string& name, size_t count, int64_t low) const;
  // An integer at least `low` (sizes, counts): a corrupt file gets an error, not
  // a huge allocation.
  int64_t positive(const std::string& name, int64_t low = 1) const;

  const std::vector<std::pair<std::string, Value>>& entries() const { return entries_; }
  const std::string& owner() const { return owner_; }
  void set_owner(std::string owner) { owner_ = std::move(owner); }

 private:
  const Value* find(const std::string& name) const;
  template <typename T>
  const T& get(const std::string& name, const char* kind) const;

  std::string owner_;
  std::vector<std::pair<std::string, Value>> entries_;
};

// A value as messages and `bdl info` show it: 3, 0.5, nearest, (1, 2).
std::string format_value(const Attributes::Value& value);

// Builds a module of a registered type from its attributes and, for containers,
// its children (in the order children() returned them when it was saved). Throws
// bdl::Error naming the type when it is unknown.
std::unique_ptr<Module> create_module(const std::string& type, const Attributes& attributes,
                                      std::vector<std::unique_ptr<Module>> children);
// Every type create_module() knows.
std::vector<std::string> module_types();
// The options (attribute names) a type declares, in file order.
std::vector<std::string> module_options(const std::string& type);

}  // namespace bdl::nn
