#include "bdl/nn/attributes.h"

#include <cstdio>

namespace bdl::nn {
namespace {

// Sizes in a model file beyond this are corruption, not a model.
constexpr int64_t kMaxSize = int64_t{1} << 40;

template <typename T>
constexpr const char* kind_name() {
  if constexpr (std::is_same_v<T, int64_t>) return "an integer";
  if constexpr (std::is_same_v<T, double>) return "a number";
  if constexpr (std::is_same_v<T, std::string>) return "a string";
  if constexpr (std::is_same_v<T, std::vector<int64_t>>) return "a list of integers";
  if constexpr (std::is_same_v<T, std::vector<double>>) return "a list of numbers";
  return "a list of strings";
}

}  // namespace

std::string format_value(const Attributes::Value& value) {
  auto number = [](double x) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", x);
    return std::string(text);
  };
  auto list = [](const auto& items, auto&& format) {
    std::string out = "(";
    for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + format(items[i]);
    return out + ")";
  };
  auto integer = [](int64_t x) { return std::to_string(x); };
  auto text = [](const std::string& x) { return x; };
  return std::visit(
      [&](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, int64_t>) return integer(v);
        if constexpr (std::is_same_v<T, double>) return number(v);
        if constexpr (std::is_same_v<T, std::string>) return v;
        if constexpr (std::is_same_v<T, std::vector<int64_t>>) return list(v, integer);
        if constexpr (std::is_same_v<T, std::vector<double>>) return list(v, number);
        if constexpr (std::is_same_v<T, std::vector<std::string>>) return list(v, text);
      },
      value);
}

Attributes& Attributes::put(const std::string& name, Value value) {
  for (auto& [n, v] : entries_) {
    if (n == name) {
      v = std::move(value);
      return *this;
    }
  }
  entries_.emplace_back(name, std::move(value));
  return *this;
}

const Attributes::Value* Attributes::find(const std::string& name) const {
  for (const auto& [n, v] : entries_) {
    if (n == name) return &v;
  }
  return nullptr;
}

template <typename T>
const T& Attributes::get(const std::string& name, const char* /*kind*/) const {
  const Value* v = find(name);
  BDL_CHECK(v != nullptr, owner_, ": attribute '", name, "' is missing");
  const T* typed = std::get_if<T>(v);
  BDL_CHECK(typed != nullptr, owner_, ": attribute '", name, "' must be ", kind_name<T>());
  return *typed;
}

int64_t Attributes::integer(const std::string& name) const { return get<int64_t>(name, "integer"); }
int64_t Attributes::integer(const std::string& name, int64_t fallback) const {
  return has(name) ? integer(name) : fallback;
}
double Attributes::real(const std::string& name) const {
  const Value* v = find(name);
  // An integer is a valid number (a file written by hand may say 1 for 1.0).
  if (v != nullptr) {
    if (const auto* i = std::get_if<int64_t>(v)) return static_cast<double>(*i);
  }
  return get<double>(name, "number");
}
double Attributes::real(const std::string& name, double fallback) const {
  return has(name) ? real(name) : fallback;
}
const std::string& Attributes::text(const std::string& name) const {
  return get<std::string>(name, "string");
}
const std::vector<int64_t>& Attributes::integers(const std::string& name) const {
  return get<std::vector<int64_t>>(name, "integers");
}
const std::vector<double>& Attributes::reals(const std::string& name) const {
  return get<std::vector<double>>(name, "numbers");
}
const std::vector<std::string>& Attributes::texts(const std::string& name) const {
  return get<std::vector<std::string>>(name, "strings");
}
const std::vector<int64_t>& Attributes::integers(const std::string& name, size_t count,
                                                 int64_t low) const {
  const auto& v = integers(name);
  bool ok = v.size() == count;
  for (int64_t x : v) ok = ok && x >= low && x <= kMaxSize;
  BDL_CHECK(ok, owner_, ": attribute '", name, "' must be ", count, " integers of at least ", low);
  return v;
}

int64_t Attributes::positive(const std::string& name, int64_t low) const {
  const int64_t v = integer(name);
  BDL_CHECK(v >= low && v <= kMaxSize, owner_, ": attribute '", name, "' is ", v,
            ", expected at least ", low);
  return v;
}

}  // namespace bdl::nn
