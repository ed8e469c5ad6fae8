#include "bdl/onnx/export.h"

#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstring>
#include <map>
#include <set>

#include "bdl/nn/concat.h"
#include "bdl/nn/graph.h"
#include "bdl/nn/multi_input.h"
#include "bdl/nn/sequential.h"
#include "io/file.h"

namespace bdl::onnx {
namespace {

using nn::Attributes;
using nn::Module;

Tensor parameter(Module& m, const std::string& name) {
  for (auto& p : m.parameters()) {
    if (p.name == name) return p.value->contiguous();
  }
  for (auto& b : m.buffers()) {
    if (b.name == name) return b.value->contiguous();
  }
  fail(m.label(), ": no tensor named ", name);
}

class Emitter {
 public:
  explicit Emitter(::onnx::GraphProto& g) : g_(g) {}

  std::string fresh(const std::string& hint) {
    std::string base = hint.empty() ? "v" : hint;
    std::string name = base;
    while (!used_.insert(name).second) name = base + "_" + std::to_string(++counter_);
    return name;
  }

  std::string initializer(const Tensor& t, const std::string& hint) {
    const std::string name = fresh(hint);
    auto* p = g_.add_initializer();
    p->set_name(name);
    for (int64_t d : t.shape()) p->add_dims(d);
    const Tensor c = t.contiguous();
    const bool integer = c.dtype() == DType::i64;
    p->set_data_type(integer ? ::onnx::TensorProto::INT64 : ::onnx::TensorProto::FLOAT);
    const size_t bytes = static_cast<size_t>(c.numel()) * (integer ? 8 : 4);
    if (bytes > 0) p->set_raw_data(c.raw_data(), bytes);
    return name;
  }
  std::string ints(const std::vector<int64_t>& v, const std::string& hint) {
    return initializer(
        Tensor::from_vector(std::span<const int64_t>(v), {static_cast<int64_t>(v.size())}), hint);
  }
  std::string scalar(float v, const std::string& hint) {
    return initializer(Tensor::full({}, v), hint);
  }

  // A node with one output, returned.
  ::onnx::NodeProto& node(const std::string& op, const std::vector<std::string>& inputs,
                          const std::string& hint, std::string* output) {
    auto* n = g_.add_node();
    n->set_op_type(op);
    n->set_name(fresh(hint + "/" + op));
    for (const auto& i : inputs) n->add_input(i);
    *output = fresh(hint + "/out");
    n->add_output(*output);
    return *n;
  }
  std::string op(const std::string& type, const std::vector<std::string>& inputs,
                 const std::string& hint) {
    std::string out;
    node(type, inputs, hint, &out);
    return out;
  }

  static void attr(::onnx::NodeProto& n, const std::string& name, int64_t v) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(::onnx::AttributeProto::INT);
    a->set_i(v);
  }
  static void attr(::onnx::NodeProto& n, const std::string& name, float v) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(::onnx::AttributeProto::FLOAT);
    a->set_f(v);
  }
  static void attr(::onnx::NodeProto& n, const std::string& name, const std::string& v) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(::onnx::AttributeProto::STRING);
    a->set_s(v);
  }
  static void attr(::onnx::NodeProto& n, const std::string& name, const std::vector<int64_t>& v) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(::onnx::AttributeProto::INTS);
    for (int64_t x : v) a->add_ints(x);
  }

  // The module on its inputs (value names and shapes); returns its output.
  std::string emit(Module& m, const std::vector<std::string>& in, const std::vector<Shape>& shapes,
                   const std::string& path);

 private:
  std::string emit_leaf(Module& m, const std::vector<std::string>& in,
                        const std::vector<Shape>& shapes, const std::string& path);
  std::string emit_recurrent(Module& m, const Attributes& a, const std::string& x,
                             const std::string& path);

  ::onnx::GraphProto& g_;
  std::set<std::string> used_;
  int counter_ = 0;
};

std::string join(const std::string& path, const Module& m, size_t index) {
  const std::string own = m.name().empty() ? std::to_string(index) : m.name();
  return path.empty() ? own : path + "." + own;
}

std::string Emitter::emit(Module& m, const std::vector<std::string>& in,
                          const std::vector<Shape>& shapes, const std::string& path) {
  if (auto* seq = dynamic_cast<nn::Sequential*>(&m)) {
    std::string x = in.at(0);
    Shape s = shapes.at(0);
    size_t i = 0;
    for (Module* child : seq->children()) {
      x = emit(*child, {x}, {s}, join(path, *child, i++));
      s = child->output_shape(s);
    }
    return x;
  }
  if (auto* graph = dynamic_cast<nn::Graph*>(&m)) {
    std::vector<std::string> names(graph->node_count());
    std::vector<Shape> node_shapes(graph->node_count());
    size_t next_input = 0;
    for (size_t i = 0; i < graph->node_count(); ++i) {
      const auto node = static_cast<nn::Graph::Node>(i);
      Module* mod = graph->module(node);
      if (mod == nullptr) {
        names[i] = in.at(next_input);
        node_shapes[i] = shapes.at(next_input++);
        continue;
      }
      std::vector<std::string> args;
      std::vector<Shape> arg_shapes;
      for (auto f : graph->inputs_of(node)) {
        args.push_back(names[static_cast<size_t>(f)]);
        arg_shapes.push_back(node_shapes[static_cast<size_t>(f)]);
      }
      const std::string own =
          graph->node_name(node).empty() ? std::to_string(i) : graph->node_name(node);
      names[i] = emit(*mod, args, arg_shapes, path.empty() ? own : path + "." + own);
      auto* multi = dynamic_cast<nn::MultiInputModule*>(mod);
      node_shapes[i] =
          multi ? multi->output_shape_many(arg_shapes) : mod->output_shape(arg_shapes[0]);
    }
    return names.at(static_cast<size_t>(graph->output_node()));
  }
  if (auto* concat = dynamic_cast<nn::Concat*>(&m)) {
    std::vector<std::string> branches;
    size_t i = 0;
    for (Module* child : concat->children()) {
      branches.push_back(emit(*child, in, shapes, join(path, *child, i++)));
    }
    Attributes a;
    concat->attributes(a);
    std::string out;
    auto& n = node("Concat", branches, path, &out);
    attr(n, "axis", a.integer("dim"));
    return out;
  }
  if (m.type() == "TimeDistributed") {
    // (N, T, ...) -> (N*T, ...) through the module -> (N, T, ...).
    Module& inner = *m.children().at(0);
    const Shape& s = shapes.at(0);
    std::vector<int64_t> folded{-1};
    folded.insert(folded.end(), s.begin() + 2, s.end());
    const std::string flat = op("Reshape", {in.at(0), ints(folded, path + ".fold")}, path);
    Shape inner_shape{s[0] * s[1]};
    inner_shape.insert(inner_shape.end(), s.begin() + 2, s.end());
    const std::string y = emit(inner, {flat}, {inner_shape}, join(path, inner, 0));
    const Shape out = inner.output_shape(inner_shape);
    std::vector<int64_t> unfolded{-1, s[1]};
    unfolded.insert(unfolded.end(), out.begin() + 1, out.end());
    return op("Reshape", {y, ints(unfolded, path + ".unfold")}, path);
  }
  if (!m.children().empty()) {
    fail(path, ": a ", m.type(),
         " has no ONNX form (export supports Sequential, Graph and Concat containers)");
  }
  return emit_leaf(m, in, shapes, path);
}

const std::map<std::string, std::string>& binary_ops() {
  static const std::map<std::string, std::string> ops = {
      {"add", "Add"}, {"sub", "Sub"}, {"mul", "Mul"}, {"div", "Div"},
      {"pow", "Pow"}, {"max", "Max"}, {"min", "Min"}};
  return ops;
}
const std::map<std::string, std::string>& unary_ops() {
  static const std::map<std::string, std::string> ops = {
      {"abs", "Abs"},     {"neg", "Neg"},
      {"exp", "Exp"},     {"log", "Log"},
      {"sqrt", "Sqrt"},   {"reciprocal", "Reciprocal"},
      {"sin", "Sin"},     {"cos", "Cos"},
      {"floor", "Floor"}, {"ceil", "Ceil"},
      {"erf", "Erf"},     {"softsign", "Softsign"},
      {"selu", "Selu"},   {"hard_sigmoid", "HardSigmoid"}};
  return ops;
}

std::string Emitter::emit_leaf(Module& m, const std::vector<std::string>& in,
                               const std::vector<Shape>& shapes, const std::string& path) {
  Attributes a(m.label());
  m.attributes(a);
  const std::string type = m.type();
  const std::string& x = in.at(0);
  const Shape& xs = shapes.at(0);
  std::string out;
  auto simple = [&](const std::string& op) { return this->op(op, in, path); };
  if (type == "ReLU") return simple("Relu");
  if (type == "Sigmoid") return simple("Sigmoid");
  if (type == "Tanh") return simple("Tanh");
  if (type == "Identity") return simple("Identity");
  if (type == "Flatten") {
    attr(node("Flatten", {x}, path, &out), "axis", int64_t{1});
    return out;
  }
  if (type == "LeakyReLU") {
    attr(node("LeakyRelu", {x}, path, &out), "alpha", static_cast<float>(a.real("negative_slope")));
    return out;
  }
  if (type == "ELU") {
    attr(node("Elu", {x}, path, &out), "alpha", static_cast<float>(a.real("alpha")));
    return out;
  }
  if (type == "HardTanh") {
    return op("Clip",
              {x, scalar(static_cast<float>(a.real("min")), path + ".min"),
               scalar(static_cast<float>(a.real("max")), path + ".max")},
              path);
  }
  if (type == "SoftPlus") {
    const double beta = a.real("beta");
    if (beta == 1.0) return simple("Softplus");
    // log(1 + exp(beta x)) / beta.
    const std::string bx = op("Mul", {x, scalar(static_cast<float>(beta), path + ".beta")}, path);
    return op("Div", {op("Softplus", {bx}, path), scalar(static_cast<float>(beta), path + ".beta")},
              path);
  }
  if (type == "GELU") {
    if (a.flag("tanh", false))
      fail(path, ": GELU's tanh approximation has no ONNX form in opset 13");
    // x * (1 + erf(x / sqrt(2))) / 2.
    const std::string e =
        op("Erf", {op("Div", {x, scalar(std::sqrt(2.f), path + ".sqrt2")}, path)}, path);
    const std::string one = op("Add", {e, scalar(1.f, path + ".one")}, path);
    return op("Mul", {op("Mul", {x, one}, path), scalar(0.5f, path + ".half")}, path);
  }
  if (type == "PReLU") {
    Tensor slope = parameter(m, "weight");
    if (slope.numel() > 1) {
      Shape s{slope.numel()};
      for (size_t d = 2; d < xs.size(); ++d) s.push_back(1);
      slope = slope.view(s);
    }
    return op("PRelu", {x, initializer(slope, path + ".weight")}, path);
  }
  if (type == "SoftMax" || type == "LogSoftMax") {
    attr(node(type == "SoftMax" ? "Softmax" : "LogSoftmax", {x}, path, &out), "axis",
         a.integer("dim"));
    return out;
  }
  if (type == "Dropout") {
    return op("Dropout", {x, scalar(static_cast<float>(a.real("p")), path + ".ratio")}, path);
  }
  if (type == "Conv2d") {
    std::vector<std::string> args{x, initializer(parameter(m, "weight"), path + ".weight")};
    if (a.flag("bias", true)) args.push_back(initializer(parameter(m, "bias"), path + ".bias"));
    auto& n = node("Conv", args, path, &out);
    const auto& k = a.integers("kernel");
    const auto& p = a.integers("padding");
    const auto pe = a.has("padding_end") ? a.integers("padding_end") : p;
    attr(n, "kernel_shape", k);
    attr(n, "strides", a.integers("stride"));
    attr(n, "pads", std::vector<int64_t>{p[0], p[1], pe[0], pe[1]});
    attr(n, "dilations", a.integers("dilation"));
    attr(n, "group", a.integer("groups"));
    return out;
  }
  if (type == "ConvTranspose2d") {
    std::vector<std::string> args{x, initializer(parameter(m, "weight"), path + ".weight")};
    if (a.flag("bias", true)) args.push_back(initializer(parameter(m, "bias"), path + ".bias"));
    auto& n = node("ConvTranspose", args, path, &out);
    const auto& p = a.integers("padding");
    const auto pe = a.has("padding_end") ? a.integers("padding_end") : p;
    attr(n, "kernel_shape", a.integers("kernel"));
    attr(n, "strides", a.integers("stride"));
    attr(n, "pads", std::vector<int64_t>{p[0], p[1], pe[0], pe[1]});
    attr(n, "output_padding", a.integers("output_padding"));
    attr(n, "dilations", a.integers("dilation"));
    attr(n, "group", a.integer("groups"));
    return out;
  }
  if (type == "Resize") {
    std::vector<std::string> args{x, ""};
    const auto& size = a.integers("size");
    if (size[0] > 0) {
      // sizes = (N, C from the input, then height and width): the batch stays free.
      std::string nc;
      const std::string shape = op("Shape", {x}, path);
      nc = op("Slice", {shape, ints({0}, path + ".start"), ints({2}, path + ".end")}, path);
      std::string sizes;
      attr(node("Concat", {nc, ints(size, path + ".size")}, path, &sizes), "axis", int64_t{0});
      args.push_back("");
      args.push_back(sizes);
    } else {
      const auto& scale = a.reals("scale");
      Tensor scales = Tensor::from_vector(
          std::vector<float>{1.f, 1.f, static_cast<float>(scale[0]), static_cast<float>(scale[1])},
          {4});
      args.push_back(initializer(scales, path + ".scales"));
    }
    auto& n = node("Resize", args, path, &out);
    attr(n, "mode", a.text("mode"));
    attr(n, "coordinate_transformation_mode", a.text("coordinates"));
    attr(n, "nearest_mode", a.text("rounding"));
    if (a.text("mode") == "cubic") {
      attr(n, "cubic_coeff_a", static_cast<float>(a.real("cubic_a")));
      attr(n, "exclude_outside", a.integer("exclude_outside"));
    }
    return out;
  }
  if (type == "MaxPool2d" || type == "AvgPool2d") {
    const bool avg = type == "AvgPool2d";
    auto& n = node(avg ? "AveragePool" : "MaxPool", {x}, path, &out);
    const auto& p = a.integers("padding");
    attr(n, "kernel_shape", a.integers("kernel"));
    attr(n, "strides", a.integers("stride"));
    attr(n, "pads", std::vector<int64_t>{p[0], p[1], p[0], p[1]});
    attr(n, "ceil_mode", a.integer("ceil_mode"));
    if (avg) attr(n, "count_include_pad", a.integer("count_include_pad"));
    return out;
  }
  if (type == "GlobalAvgPool2d") return simple("GlobalAveragePool");
  if (type == "GlobalMaxPool2d") return simple("GlobalMaxPool");
  if (type == "BatchNorm") {
    if (!a.flag("track_running_stats", true)) {
      fail(path, ": BatchNorm without running statistics has no inference form");
    }
    const int64_t c = a.integer("num_features");
    Tensor scale = a.flag("affine", true) ? parameter(m, "weight") : Tensor::full({c}, 1.f);
    Tensor bias = a.flag("affine", true) ? parameter(m, "bias") : Tensor::zeros({c});
    auto& n = node("BatchNormalization",
                   {x, initializer(scale, path + ".weight"), initializer(bias, path + ".bias"),
                    initializer(parameter(m, "running_mean"), path + ".running_mean"),
                    initializer(parameter(m, "running_var"), path + ".running_var")},
                   path, &out);
    attr(n, "epsilon", static_cast<float>(a.real("eps")));
    attr(n, "momentum", static_cast<float>(1.0 - a.real("momentum")));
    return out;
  }
  if (type == "LRN") {
    auto& n = node("LRN", {x}, path, &out);
    attr(n, "size", a.integer("size"));
    attr(n, "alpha", static_cast<float>(a.real("alpha")));
    attr(n, "beta", static_cast<float>(a.real("beta")));
    attr(n, "bias", static_cast<float>(a.real("k")));
    return out;
  }
  if (type == "Linear") {
    const Tensor w = parameter(m, "weight");
    const bool bias = a.flag("bias", true);
    if (xs.size() == 2) {
      std::vector<std::string> args{x, initializer(w, path + ".weight")};
      if (bias) args.push_back(initializer(parameter(m, "bias"), path + ".bias"));
      attr(node("Gemm", args, path, &out), "transB", int64_t{1});
      return out;
    }
    // Other ranks: x W^T (+ b) over the last dimension.
    Tensor wt = Tensor::empty({w.shape()[1], w.shape()[0]});
    wt.copy_from(w.transpose(0, 1));
    out = op("MatMul", {x, initializer(wt, path + ".weight_t")}, path);
    if (bias) out = op("Add", {out, initializer(parameter(m, "bias"), path + ".bias")}, path);
    return out;
  }
  if (type == "Reshape") {
    std::vector<int64_t> target{0};
    for (int64_t s : a.integers("shape")) target.push_back(s);
    return op("Reshape", {x, ints(target, path + ".shape")}, path);
  }
  if (type == "View") return op("Reshape", {x, ints(a.integers("shape"), path + ".shape")}, path);
  if (type == "Add") {
    std::string acc = in.at(0);
    for (size_t i = 1; i < in.size(); ++i) acc = op("Add", {acc, in[i]}, path);
    return acc;
  }
  if (type == "JoinTable") {
    attr(node("Concat", in, path, &out), "axis", a.integer("dim"));
    return out;
  }
  if (type == "Binary") {
    const std::string onnx_op = binary_ops().at(a.text("op"));
    if (!a.has("constant_shape")) return op(onnx_op, in, path);
    const std::string k = initializer(parameter(m, "constant"), path + ".constant");
    return a.flag("constant_first", false) ? op(onnx_op, {k, x}, path) : op(onnx_op, {x, k}, path);
  }
  if (type == "Unary") {
    const std::string name = a.text("op");
    auto& n = node(unary_ops().at(name), {x}, path, &out);
    if (name == "selu") {
      attr(n, "alpha", static_cast<float>(a.real("alpha")));
      attr(n, "gamma", static_cast<float>(a.real("beta")));
    } else if (name == "hard_sigmoid") {
      attr(n, "alpha", static_cast<float>(a.real("alpha")));
      attr(n, "beta", static_cast<float>(a.real("beta")));
    }
    return out;
  }
  if (type == "MatMul") {
    if (!a.has("weight_shape")) return op("MatMul", in, path);
    return op("MatMul", {x, initializer(parameter(m, "weight"), path + ".weight")}, path);
  }
  if (type == "Transpose") {
    attr(node("Transpose", {x}, path, &out), "perm", a.integers("perm"));
    return out;
  }
  if (type == "Slice") {
    return op(
        "Slice",
        {x, ints(a.integers("starts"), path + ".starts"), ints(a.integers("ends"), path + ".ends"),
         ints(a.integers("axes"), path + ".axes"), ints(a.integers("steps"), path + ".steps")},
        path);
  }
  if (type == "Pad") {
    auto& n = node("Pad",
                   {x, ints(a.integers("pads"), path + ".pads"),
                    scalar(static_cast<float>(a.real("value", 0)), path + ".value")},
                   path, &out);
    attr(n, "mode", a.text("mode"));
    return out;
  }
  if (type == "Gather") {
    const auto& idx = a.integers("indices");
    Tensor t = Tensor::from_vector(std::span<const int64_t>(idx), a.integers("indices_shape"));
    attr(node("Gather", {x, initializer(t, path + ".indices")}, path, &out), "axis",
         a.integer("axis"));
    return out;
  }
  if (type == "Reduce") {
    const std::string r = a.text("op");
    const auto& axes = a.integers("axes");
    const int64_t keep = a.flag("keep_dims", true) ? 1 : 0;
    if (r == "sum") {
      std::vector<std::string> args{x};
      if (!axes.empty()) args.push_back(ints(axes, path + ".axes"));
      attr(node("ReduceSum", args, path, &out), "keepdims", keep);
      return out;
    }
    auto& n = node(r == "mean"  ? "ReduceMean"
                   : r == "max" ? "ReduceMax"
                                : "ReduceMin",
                   {x}, path, &out);
    if (!axes.empty()) attr(n, "axes", axes);
    attr(n, "keepdims", keep);
    return out;
  }
  if (type == "Embedding") {
    // bdl's ids are float32 values; ONNX's Gather takes integer indices.
    std::string ids;
    attr(node("Cast", {x}, path, &ids), "to", int64_t{::onnx::TensorProto::INT64});
    return op("Gather", {initializer(parameter(m, "weight"), path + ".weight"), ids}, path);
  }
  if (type == "LSTM" || type == "GRU") return emit_recurrent(m, a, x, path);
  fail(path, ": a ", type, " layer has no ONNX export");
}

// bdl's recurrent layers are batch-first with PyTorch's gate order; ONNX's LSTM
// and GRU are time-major (before opset 14) with gates i, o, f, c and z, r, h.
std::string Emitter::emit_recurrent(Module& m, const Attributes& a, const std::string& x,
                                    const std::string& path) {
  const bool lstm = m.type() == "LSTM";
  const int64_t gates = lstm ? 4 : 3;
  const int64_t hidden = a.integer("hidden_size");
  const int64_t input = a.integer("input_size");
  // Block i of ONNX's weights is block order[i] of bdl's.
  const std::vector<int64_t> order =
      lstm ? std::vector<int64_t>{0, 3, 1, 2} : std::vector<int64_t>{1, 0, 2};
  auto reorder = [&](const Tensor& t, int64_t cols) {
    Tensor out = Tensor::empty({1, gates * hidden, cols});
    const float* src = t.f32();
    float* dst = out.f32();
    const int64_t block = hidden * cols;
    for (int64_t i = 0; i < gates; ++i) {
      std::memcpy(dst + i * block, src + order[static_cast<size_t>(i)] * block,
                  static_cast<size_t>(block) * sizeof(float));
    }
    return out;
  };
  const std::string w = initializer(reorder(parameter(m, "weight_ih_l0"), input), path + ".W");
  const std::string r = initializer(reorder(parameter(m, "weight_hh_l0"), hidden), path + ".R");
  std::string time_major;  // (N, T, I) -> (T, N, I)
  attr(node("Transpose", {x}, path, &time_major), "perm", std::vector<int64_t>{1, 0, 2});
  std::vector<std::string> args{time_major, w, r};
  if (a.flag("bias", true)) {
    const Tensor bi = reorder(parameter(m, "bias_ih_l0"), 1);
    const Tensor bh = reorder(parameter(m, "bias_hh_l0"), 1);
    Tensor b = Tensor::empty({1, 2 * gates * hidden});
    std::memcpy(b.f32(), bi.f32(), static_cast<size_t>(gates * hidden) * sizeof(float));
    std::memcpy(b.f32() + gates * hidden, bh.f32(),
                static_cast<size_t>(gates * hidden) * sizeof(float));
    args.push_back(initializer(b, path + ".B"));
  }
  auto* n = g_.add_node();
  n->set_op_type(lstm ? "LSTM" : "GRU");
  n->set_name(fresh(path + "/" + n->op_type()));
  for (const auto& i : args) n->add_input(i);
  const std::string y = fresh(path + "/Y");
  const std::string y_h = fresh(path + "/Y_h");
  n->add_output(y);
  n->add_output(y_h);
  attr(*n, "hidden_size", hidden);
  if (!lstm) attr(*n, "linear_before_reset", int64_t{a.flag("reset_after", true) ? 1 : 0});
  if (a.flag("return_sequences", false)) {
    // Y (T, 1, N, H) -> (T, N, H) -> (N, T, H).
    const std::string squeezed = op("Squeeze", {y, ints({1}, path + ".axes")}, path);
    std::string out;
    attr(node("Transpose", {squeezed}, path, &out), "perm", std::vector<int64_t>{1, 0, 2});
    return out;
  }
  return op("Squeeze", {y_h, ints({0}, path + ".axes")}, path);  // (1, N, H) -> (N, H)
}

void set_shape(::onnx::ValueInfoProto& v, const std::string& name, const Shape& sample) {
  v.set_name(name);
  auto* t = v.mutable_type()->mutable_tensor_type();
  t->set_elem_type(::onnx::TensorProto::FLOAT);
  auto* s = t->mutable_shape();
  s->add_dim()->set_dim_param("N");
  for (int64_t d : sample) s->add_dim()->set_dim_value(d);
}

}  // namespace

std::string export_model_bytes(Module& model, const ExportOptions& options) {
  BDL_CHECK(!options.input_shape.empty(), "export: the input shape of one sample is needed");
  ::onnx::ModelProto proto;
  proto.set_ir_version(7);
  proto.set_producer_name("bdl");
  auto* opset = proto.add_opset_import();
  opset->set_domain("");
  opset->set_version(kExportOpset);
  auto* g = proto.mutable_graph();
  g->set_name(options.graph_name);
  Emitter e(*g);
  const std::string input = e.fresh("input");
  Shape shape{1};
  shape.insert(shape.end(), options.input_shape.begin(), options.input_shape.end());
  const std::string last = e.emit(model, {input}, {shape}, "");
  // The graph output gets a plain name through an Identity.
  const std::string output = e.fresh("output");
  auto* n = g->add_node();
  n->set_op_type("Identity");
  n->set_name("output");
  n->add_input(last);
  n->add_output(output);
  set_shape(*g->add_input(), input, options.input_shape);
  const Shape out = model.output_shape(shape);
  set_shape(*g->add_output(), output, Shape(out.begin() + 1, out.end()));
  std::string bytes;
  BDL_CHECK(proto.SerializeToString(&bytes), "export: the model is over protobuf's 2 GiB limit");
  return bytes;
}

void export_model(Module& model, const std::string& path, const ExportOptions& options) {
  const std::string bytes = export_model_bytes(model, options);
  io::AtomicFile file(path);
  file.write(bytes.data(), bytes.size());
  file.commit();
}

}  // namespace bdl::onnx
