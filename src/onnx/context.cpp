#include "onnx/context.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "bdl/nn/multi_input.h"

namespace bdl::onnx {
namespace {

// Elements stored in a TensorProto's typed fields or raw bytes, checked
// against the element count its dims give.
template <typename T, typename Field>
std::vector<T> elements(const ::onnx::TensorProto& p, const Field& field, size_t width,
                        int64_t count, const std::string& what) {
  if (p.has_raw_data()) {
    const std::string& raw = p.raw_data();
    BDL_CHECK(raw.size() / width == static_cast<size_t>(count) && raw.size() % width == 0, what,
              ": ", raw.size(), " bytes of data for ", count, " elements of ", width, " bytes");
    std::vector<T> out(static_cast<size_t>(count));
    if constexpr (sizeof(T) == 4 || sizeof(T) == 8) {
      if (width == sizeof(T)) {
        if (count > 0) std::memcpy(out.data(), raw.data(), raw.size());
        return out;
      }
    }
    for (int64_t i = 0; i < count; ++i) {
      const char* b = raw.data() + static_cast<size_t>(i) * width;
      int64_t v = 0;
      switch (width) {
        case 1: {  // int8: the byte's two's-complement value
          const auto u = static_cast<unsigned char>(b[0]);
          v = u < 128 ? int64_t{u} : int64_t{u} - 256;
          break;
        }
        case 2: {
          int16_t x;
          std::memcpy(&x, b, 2);
          v = x;
          break;
        }
        case 4: {
          int32_t x;
          std::memcpy(&x, b, 4);
          v = x;
          break;
        }
        default:
          std::memcpy(&v, b, 8);
      }
      out[static_cast<size_t>(i)] = static_cast<T>(v);
    }
    return out;
  }
  BDL_CHECK(field.size() == count, what, ": ", field.size(), " values for ", count, " elements");
  std::vector<T> out(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i)
    out[static_cast<size_t>(i)] = static_cast<T>(field.Get(static_cast<int>(i)));
  return out;
}

}  // namespace

Tensor to_tensor(const ::onnx::TensorProto& p, const std::string& what) {
  if (p.data_location() == ::onnx::TensorProto::EXTERNAL) {
    throw Unsupported(what + ": data in an external file is not supported");
  }
  Shape shape;
  for (int64_t d : p.dims()) {
    BDL_CHECK(d >= 0, what, ": negative dimension ", d);
    shape.push_back(d);
  }
  const int64_t count = shape_numel(shape);
  switch (p.data_type()) {
    case ::onnx::TensorProto::FLOAT: {
      if (p.has_raw_data()) {
        BDL_CHECK(
            p.raw_data().size() / 4 == static_cast<size_t>(count) && p.raw_data().size() % 4 == 0,
            what, ": ", p.raw_data().size(), " bytes of data for ", count, " float32 elements");
        Tensor t = Tensor::empty(shape);
        if (count > 0) std::memcpy(t.f32(), p.raw_data().data(), p.raw_data().size());
        return t;
      }
      const auto v = elements<float>(p, p.float_data(), 4, count, what);
      return Tensor::from_vector(std::span<const float>(v), shape);
    }
    case ::onnx::TensorProto::DOUBLE: {
      // A float64 constant (some exporters write scalars so) computes in float32.
      const auto v = elements<double>(p, p.double_data(), 8, count, what);
      std::vector<float> f(v.begin(), v.end());
      return Tensor::from_vector(std::span<const float>(f), shape);
    }
    case ::onnx::TensorProto::INT64: {
      const auto v = elements<int64_t>(p, p.int64_data(), 8, count, what);
      return Tensor::from_vector(std::span<const int64_t>(v), shape);
    }
    case ::onnx::TensorProto::INT32:
    case ::onnx::TensorProto::INT16:
    case ::onnx::TensorProto::INT8:
    case ::onnx::TensorProto::UINT8:
    case ::onnx::TensorProto::BOOL: {
      const int type = p.data_type();
      const size_t width = type == ::onnx::TensorProto::INT32   ? 4
                           : type == ::onnx::TensorProto::INT16 ? 2
                                                                : 1;
      auto v = elements<int64_t>(p, p.int32_data(), width, count, what);
      if (type == ::onnx::TensorProto::UINT8 || type == ::onnx::TensorProto::BOOL) {
        for (auto& x : v) x &= 0xff;
      }
      return Tensor::from_vector(std::span<const int64_t>(v), shape);
    }
    default:
      throw Unsupported(what + ": element type " +
                        ::onnx::TensorProto::DataType_Name(
                            static_cast<::onnx::TensorProto::DataType>(p.data_type())) +
                        " (bdl runs float32 models; int64 for shapes and indices)");
  }
}

std::vector<int64_t> to_integers(const Tensor& t) {
  const Tensor c = t.contiguous();
  if (c.dtype() == DType::i64) {
    const int64_t* p = c.data<int64_t>();
    return {p, p + c.numel()};
  }
  std::vector<int64_t> out;
  for (float v : c.span_f32()) out.push_back(static_cast<int64_t>(std::llround(v)));
  return out;
}

std::vector<float> to_floats(const Tensor& t) {
  const Tensor c = t.contiguous();
  if (c.dtype() == DType::f32) {
    const auto s = c.span_f32();
    return {s.begin(), s.end()};
  }
  std::vector<float> out;
  const int64_t* p = c.data<int64_t>();
  for (int64_t i = 0; i < c.numel(); ++i) out.push_back(static_cast<float>(p[i]));
  return out;
}

Context::Context(nn::Graph& graph, std::map<std::string, Value>& values,
                 const std::set<std::string>& consumed, int64_t opset,
                 const ::onnx::NodeProto& node, int index)
    : graph_(graph),
      values_(values),
      consumed_(consumed),
      opset_(opset),
      node_(node),
      index_(index) {}

std::string Context::where() const {
  if (node_.name().empty()) return detail::concat("node #", index_, " (", node_.op_type(), ")");
  return detail::concat("node '", node_.name(), "' (", node_.op_type(), ")");
}

bool Context::has_input(size_t i) const {
  return i < input_count() && !node_.input(static_cast<int>(i)).empty();
}

const Value& Context::input(size_t i) const {
  if (!has_input(i)) invalid("input ", i, " is missing");
  const std::string& name = node_.input(static_cast<int>(i));
  const auto it = values_.find(name);
  if (it == values_.end()) invalid("input '", name, "' is not produced by an earlier node");
  return it->second;
}

const Tensor& Context::constant_input(size_t i, const char* what) const {
  const Value& v = input(i);
  if (!v.is_constant()) {
    unsupported(what, " (input '", node_.input(static_cast<int>(i)),
                "') computed at run time; bdl needs it known when the model loads");
  }
  return v.constant;
}

std::vector<int64_t> Context::integers_input(size_t i, const char* what) const {
  return to_integers(constant_input(i, what));
}

const Tensor& Context::fixed_input(size_t i, const char* what) const {
  const Tensor& t = constant_input(i, what);
  const Value& v = input(i);
  if (v.batch_sized || (v.alt.defined() && to_integers(v.alt) != to_integers(t))) {
    unsupported(what, " (input '", node_.input(static_cast<int>(i)),
                "') is computed from the batch size; bdl fixes such values when the model loads");
  }
  return t;
}

bool Context::output_used(size_t i) const {
  return i < static_cast<size_t>(node_.output_size()) &&
         !node_.output(static_cast<int>(i)).empty() &&
         consumed_.count(node_.output(static_cast<int>(i))) > 0;
}

const ::onnx::AttributeProto* Context::find(const std::string& name) const {
  for (const auto& a : node_.attribute()) {
    if (a.name() == name) return &a;
  }
  return nullptr;
}

const ::onnx::AttributeProto& Context::typed(const std::string& name,
                                             ::onnx::AttributeProto::AttributeType type) const {
  const auto* a = find(name);
  if (a->has_ref_attr_name()) unsupported("attribute '", name, "' refers to a function attribute");
  if (a->type() != type && a->type() != ::onnx::AttributeProto::UNDEFINED) {
    invalid("attribute '", name, "' is ", ::onnx::AttributeProto::AttributeType_Name(a->type()),
            ", expected ", ::onnx::AttributeProto::AttributeType_Name(type));
  }
  return *a;
}

int64_t Context::integer(const std::string& name, int64_t fallback) const {
  return find(name) ? typed(name, ::onnx::AttributeProto::INT).i() : fallback;
}
float Context::real(const std::string& name, float fallback) const {
  return find(name) ? typed(name, ::onnx::AttributeProto::FLOAT).f() : fallback;
}
std::string Context::text(const std::string& name, const std::string& fallback) const {
  return find(name) ? typed(name, ::onnx::AttributeProto::STRING).s() : fallback;
}
std::vector<int64_t> Context::integers(const std::string& name,
                                       std::vector<int64_t> fallback) const {
  if (!find(name)) return fallback;
  const auto& a = typed(name, ::onnx::AttributeProto::INTS);
  return {a.ints().begin(), a.ints().end()};
}
std::vector<float> Context::reals(const std::string& name, std::vector<float> fallback) const {
  if (!find(name)) return fallback;
  const auto& a = typed(name, ::onnx::AttributeProto::FLOATS);
  return {a.floats().begin(), a.floats().end()};
}
Tensor Context::tensor(const std::string& name) const {
  if (!find(name)) invalid("attribute '", name, "' is missing");
  return to_tensor(typed(name, ::onnx::AttributeProto::TENSOR).t(), "attribute '" + name + "'");
}

Value Context::constant(Tensor t) {
  Value v;
  v.shape = t.shape();
  v.constant = std::move(t);
  return v;
}

// Runs a module on constants in evaluation mode (integers through float32, exact
// below 2^24, which shape arithmetic stays under); `alt` takes each constant's
// value at the batch size one larger where it has one.
Tensor Context::fold(nn::Module& module, const std::vector<Value>& from, bool alt) const {
  module.eval();
  std::vector<Tensor> args;
  bool any_integer = false;
  for (const Value& v : from) {
    const Tensor& t = alt && v.alt.defined() ? v.alt : v.constant;
    if (t.dtype() == DType::i64) {
      any_integer = true;
      const auto ints = to_integers(t);
      for (int64_t x : ints) {
        if (x > (1 << 24) || x < -(1 << 24)) {
          unsupported("integer constant ", x, " is too large to compute with at import");
        }
      }
      std::vector<float> f(ints.begin(), ints.end());
      args.push_back(Tensor::from_vector(std::span<const float>(f), t.shape()));
    } else {
      args.push_back(t.contiguous());
    }
  }
  std::vector<const Tensor*> ptrs;
  ptrs.reserve(args.size());
  for (const Tensor& t : args) ptrs.push_back(&t);
  auto* multi = dynamic_cast<nn::MultiInputModule*>(&module);
  const Tensor& out = multi ? multi->forward_many(ptrs) : module.forward(args.at(0));
  Tensor result = out.contiguous().clone();
  if (any_integer) {
    const auto ints = to_integers(result);
    result = Tensor::from_vector(std::span<const int64_t>(ints), result.shape());
  }
  return result;
}

void inherit_source(Value& to, const std::vector<Value>& from) {
  for (const Value& v : from) {
    if (v.alt.defined() && v.alt_source >= 0) {
      to.alt_source = v.alt_source;
      to.alt_source_shape = v.alt_source_shape;
      to.alt_source_batch_axis = v.alt_source_batch_axis;
      return;
    }
  }
}

Value Context::add(std::unique_ptr<nn::Module> module, const std::vector<Value>& from,
                   bool takes_integers) {
  for (const Value& v : from) {
    if (v.integer && !takes_integers) {
      unsupported("integer data computed at run time feeds a ", module->type(),
                  "; bdl computes in float32 and reads integers only as embedding indices");
    }
  }
  std::string name =
      node_.name().empty() ? detail::concat(node_.op_type(), "_", index_) : node_.name();
  if (modules_++ > 0) name = detail::concat(name, "/", modules_);
  module->set_name(name);
  auto* multi = dynamic_cast<nn::MultiInputModule*>(module.get());
  std::vector<Shape> shapes;
  bool all_constant = true;
  for (const Value& v : from) {
    shapes.push_back(v.shape);
    all_constant = all_constant && v.is_constant();
  }
  Shape shape;
  try {
    shape = multi ? multi->output_shape_many(shapes) : module->output_shape(shapes.at(0));
  } catch (const Unsupported&) {
    throw;
  } catch (const Error& e) {
    invalid(e.what());
  }
  if (all_constant) {
    Value folded = constant(fold(*module, from, false));
    folded.batch_sized =
        std::any_of(from.begin(), from.end(), [](const Value& v) { return v.batch_sized; });
    // Shape arithmetic on the batch size is folded a second time as if the batch
    // were one larger, which tells the entries that depend on it.
    const bool batch_dependent =
        !folded.batch_sized &&
        std::any_of(from.begin(), from.end(), [](const Value& v) { return v.alt.defined(); });
    if (batch_dependent) {
      Tensor alt = fold(*module, from, true);
      if (alt.shape() == folded.constant.shape()) {
        folded.alt = std::move(alt);
        inherit_source(folded, from);
      } else {
        folded.batch_sized = true;
      }
    }
    return folded;
  }
  std::vector<nn::Graph::Node> nodes;
  for (size_t i = 0; i < from.size(); ++i) {
    if (from[i].is_constant()) {
      unsupported("a constant operand ", i, " where bdl's ", module->type(),
                  " takes values computed at run time");
    }
    nodes.push_back(from[i].node);
  }
  // Zeros moved (sliced, reshaped, transposed, joined) are zeros: an initial
  // state built as zeros of the batch size and then sliced stays known.
  static const std::set<std::string, std::less<>> moves{
      "Slice", "View", "Reshape", "Flatten", "Transpose", "Identity", "Gather", "JoinTable"};
  const bool zeros = moves.count(module->type()) > 0 &&
                     std::all_of(from.begin(), from.end(), [](const Value& f) { return f.zeros; });
  Value v;
  v.node = graph_.add(std::move(module), nodes, name);
  v.zeros = zeros && !from.empty();
  // By default the batch stays where it was when the rank does not change.
  if (!from.empty() && from[0].batch_axis >= 0 && from[0].shape.size() == shape.size()) {
    v.batch_axis = from[0].batch_axis;
    v.batch_outer = from[0].batch_outer;
    v.batch_inner = from[0].batch_inner;
  }
  v.shape = std::move(shape);
  return v;
}

void Context::set_output(size_t i, Value v) {
  if (i >= static_cast<size_t>(node_.output_size())) return;
  const std::string& name = node_.output(static_cast<int>(i));
  if (name.empty()) return;
  values_[name] = std::move(v);
}

}  // namespace bdl::onnx
