#pragma once

// A layer type is declared once. Its options struct lists its fields, each by
// name, in one function; the layer class names its type in kType and derives
// from Layer<Self>; its .cpp registers it. From that one declaration come the
// type name, the attributes a model file stores (save and load), the default
// describe() (what `bdl info` shows) and creation by name. ONNX export finds the
// layer in its table by the same kType. docs/adding-a-layer.md walks through it.
//
//   struct LinearOptions {
//     int64_t in_features = 0;
//     int64_t out_features = 0;
//     bool bias = true;
//     static void fields(auto& o, auto& field) {
//       field("in_features", o.in_features);
//       field("out_features", o.out_features);
//       field("bias", o.bias);
//     }
//   };
//   class Linear : public Layer<Linear> {
//    public:
//     static constexpr std::string_view kType = "Linear";
//     explicit Linear(LinearOptions options);   // checks the options
//     const LinearOptions& options() const;
//     ...
//   };
//   // linear.cpp
//   const RegisterLayers<Linear> kRegistered;

#include <array>
#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "bdl/nn/attributes.h"
#include "bdl/nn/module.h"
#include "bdl/nn/size2.h"

namespace bdl::nn {

// Whether a field must be in a model file. Fields added after files were
// written are may_be_absent: reading an older file keeps the default.
enum class Presence { required, may_be_absent };

// An enum's values and the names files and messages use for them. Declare one
// table per enum next to it, as a function found by argument-dependent lookup:
//   constexpr EnumNames<PadMode, 3> enum_names(PadMode) { return {{...}}; }
template <typename E, size_t N>
using EnumNames = std::array<std::pair<E, std::string_view>, N>;

// The options of a layer that has none.
struct NoOptions {
  static void fields(auto& /*o*/, auto& /*field*/) {}
};

// While one lives on this thread, a layer built from attributes keeps the
// default of every field that is absent, required or not: Python builds layers
// from keyword arguments this way. Model files must hold every required field.
class AbsentFieldsKeepDefaults {
 public:
  AbsentFieldsKeepDefaults();
  ~AbsentFieldsKeepDefaults();
  AbsentFieldsKeepDefaults(const AbsentFieldsKeepDefaults&) = delete;
  AbsentFieldsKeepDefaults& operator=(const AbsentFieldsKeepDefaults&) = delete;
  static bool active();

 private:
  bool outer_;
};

namespace fields {

template <typename T>
struct IsOptional : std::false_type {};
template <typename T>
struct IsOptional<std::optional<T>> : std::true_type {};

template <typename E>
std::string_view enum_name(E value) {
  for (const auto& [e, name] : enum_names(E{})) {
    if (e == value) return name;
  }
  return "?";
}

template <typename E>
std::optional<E> enum_value(std::string_view name) {
  for (const auto& [e, n] : enum_names(E{})) {
    if (n == name) return e;
  }
  return std::nullopt;
}

// "a, b or c": the names an enum accepts, for messages.
template <typename E>
std::string enum_list() {
  std::string out;
  const auto names = enum_names(E{});
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " or " : ", ";
    out += names[i].second;
  }
  return out;
}

template <typename T>
Attributes::Value to_value(const T& v) {
  if constexpr (std::is_enum_v<T>) {
    return std::string(enum_name(v));
  } else if constexpr (std::is_same_v<T, bool> || std::is_integral_v<T>) {
    return static_cast<int64_t>(v);
  } else if constexpr (std::is_floating_point_v<T>) {
    return static_cast<double>(v);
  } else if constexpr (std::is_same_v<T, Size2>) {
    return std::vector<int64_t>{v.h, v.w};
  } else if constexpr (std::is_same_v<T, std::vector<float>>) {
    return std::vector<double>(v.begin(), v.end());
  } else {
    return v;  // strings and lists of integers, numbers or strings
  }
}

template <typename T>
void read_value(const Attributes& a, const std::string& name, T& v) {
  if constexpr (std::is_enum_v<T>) {
    const std::string& text = a.text(name);
    const auto value = enum_value<T>(text);
    BDL_CHECK(value.has_value(), a.owner(), ": attribute '", name, "' is '", text, "', not one of ",
              enum_list<T>());
    v = *value;
  } else if constexpr (std::is_same_v<T, bool>) {
    v = a.integer(name) != 0;
  } else if constexpr (std::is_same_v<T, int>) {
    const int64_t x = a.integer(name);
    BDL_CHECK(x >= INT32_MIN && x <= INT32_MAX, a.owner(), ": attribute '", name, "' is ", x,
              ", out of range");
    v = static_cast<int>(x);
  } else if constexpr (std::is_same_v<T, int64_t>) {
    v = a.integer(name);
  } else if constexpr (std::is_floating_point_v<T>) {
    v = static_cast<T>(a.real(name));
  } else if constexpr (std::is_same_v<T, Size2>) {
    v = size2_attribute(a, name, 0);
  } else if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
    v = a.integers(name);
  } else if constexpr (std::is_same_v<T, std::vector<double>>) {
    v = a.reals(name);
  } else if constexpr (std::is_same_v<T, std::vector<float>>) {
    const auto& r = a.reals(name);
    v.assign(r.begin(), r.end());
  } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
    v = a.texts(name);
  } else {
    static_assert(std::is_same_v<T, std::string>, "a field type Attributes cannot hold");
    v = a.text(name);
  }
}

// Two members stored as one list of two ("size" for height and width).
template <typename T>
void read_pair(const Attributes& a, const std::string& name, T& first, T& second) {
  if constexpr (std::is_floating_point_v<T>) {
    const auto& v = a.reals(name);
    BDL_CHECK(v.size() == 2, a.owner(), ": attribute '", name, "' has ", v.size(),
              " values, expected 2");
    first = static_cast<T>(v[0]);
    second = static_cast<T>(v[1]);
  } else {
    const auto& v = a.integers(name);
    BDL_CHECK(v.size() == 2, a.owner(), ": attribute '", name, "' has ", v.size(),
              " values, expected 2");
    first = v[0];
    second = v[1];
  }
}

// Visitors of an options struct's fields().
struct Writer {
  Attributes& out;
  template <typename T>
  void operator()(const char* name, const T& first, const T& second) {
    if constexpr (std::is_floating_point_v<T>) {
      out.put(name, std::vector<double>{static_cast<double>(first), static_cast<double>(second)});
    } else {
      out.put(name, std::vector<int64_t>{first, second});
    }
  }
  template <typename T>
  void operator()(const char* name, const T& v, Presence = Presence::required) {
    if constexpr (IsOptional<T>::value) {
      if (v.has_value()) out.put(name, to_value(*v));
    } else {
      out.put(name, to_value(v));
    }
  }
};

struct Reader {
  const Attributes& in;
  template <typename T>
  void operator()(const char* name, T& first, T& second) {
    read_pair(in, name, first, second);
  }
  template <typename T>
  void operator()(const char* name, T& v, Presence presence = Presence::required) {
    if constexpr (IsOptional<T>::value) {
      if (in.has(name)) read_value(in, name, v.emplace());
    } else if ((presence == Presence::required && !AbsentFieldsKeepDefaults::active()) ||
               in.has(name)) {
      read_value(in, name, v);
    }
  }
};

}  // namespace fields

template <typename Options>
void write_fields(const Options& options, Attributes& out) {
  fields::Writer writer{out};
  Options::fields(options, writer);
}

template <typename Options>
Options read_fields(const Attributes& in) {
  Options options;
  fields::Reader reader{in};
  Options::fields(options, reader);
  return options;
}

// "Type(a=1, b=2x3)" from the attributes that differ from the defaults'.
std::string describe_attributes(std::string_view type, const Attributes& attributes,
                                const Attributes& defaults);

template <typename Options>
std::string describe_fields(std::string_view type, const Options& options) {
  Attributes mine, defaults;
  write_fields(options, mine);
  write_fields(Options{}, defaults);
  return describe_attributes(type, mine, defaults);
}

// The options a layer class declares: the type its options() returns, or
// NoOptions when it has none.
template <typename L>
auto options_of(const L& layer) {
  if constexpr (requires { layer.options(); }) {
    return std::remove_cvref_t<decltype(layer.options())>(layer.options());
  } else {
    return NoOptions{};
  }
}
template <typename L>
using OptionsOf = decltype(options_of(std::declval<const L&>()));

// The base of a declared layer: type(), attributes() and a default describe()
// from Self's kType and options. Base is Module or an intermediate class of
// shared machinery (EltwiseActivation, Pool2d, Recurrent); its constructors are
// inherited.
template <typename Self, typename Base = Module>
class Layer : public Base {
 public:
  using Base::Base;
  std::string type() const final { return std::string(Self::kType); }
  void attributes(Attributes& out) const final { write_fields(options_of(self()), out); }
  // An intermediate base's own describe() (Pool2d's, Recurrent's), else the
  // fields that differ from their defaults.
  std::string describe() const override {
    if constexpr (std::is_same_v<decltype(&Base::describe), std::string (Module::*)() const>) {
      return describe_fields(Self::kType, options_of(self()));
    } else {
      return Base::describe();
    }
  }

 private:
  const Self& self() const { return static_cast<const Self&>(*this); }
};

using Children = std::vector<std::unique_ptr<Module>>;
using LayerFactory = std::unique_ptr<Module> (*)(const Attributes&, Children);

// Builds a layer of type L from its attributes: L::create(attributes, children)
// when L has one (containers), otherwise L(options read from the attributes).
template <typename L>
std::unique_ptr<Module> create_layer(const Attributes& a, Children children) {
  if constexpr (requires(const Attributes& x, Children c) { L::create(x, std::move(c)); }) {
    return L::create(a, std::move(children));
  } else {
    BDL_CHECK(children.empty(), a.owner(), ": a ", L::kType, " has no child modules, found ",
              children.size());
    if constexpr (std::is_same_v<OptionsOf<L>, NoOptions>) {
      return std::make_unique<L>();
    } else {
      return std::make_unique<L>(read_fields<OptionsOf<L>>(a));
    }
  }
}

namespace fields {
// Collects the names an options struct's fields() declares.
struct Names {
  std::vector<std::string>& out;
  template <typename T>
  void operator()(const char* name, T& /*first*/, T& /*second*/) {
    out.emplace_back(name);
  }
  template <typename T>
  void operator()(const char* name, T& /*v*/, Presence /*p*/ = Presence::required) {
    out.emplace_back(name);
  }
};
}  // namespace fields

// The option names a layer type declares, in file order.
template <typename L>
std::vector<std::string> option_names_of() {
  std::vector<std::string> out;
  if constexpr (!std::is_same_v<OptionsOf<L>, NoOptions>) {
    OptionsOf<L> options{};
    fields::Names names{out};
    OptionsOf<L>::fields(options, names);
  }
  return out;
}
using OptionNames = std::vector<std::string> (*)();

// Adds a type to the table create_module() reads; a name registered twice is an
// error at start-up.
void register_layer_type(std::string_view name, LayerFactory create, OptionNames options);

// Registers layer types when constructed; each layer's .cpp holds one:
//   const RegisterLayers<ReLU, Tanh, Sigmoid> kRegistered;
template <typename... Ls>
struct RegisterLayers {
  RegisterLayers() {
    (register_layer_type(Ls::kType, &create_layer<Ls>, &option_names_of<Ls>), ...);
  }
};

}  // namespace bdl::nn
