#include "onnx/fuse.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>

#include "onnx/context.h"

namespace bdl::onnx {
namespace {

using ::onnx::NodeProto;

bool default_domain(const std::string& d) { return d.empty() || d == "ai.onnx"; }

// The graph's nodes with who produces and who reads each value, and which
// nodes a fusion has taken.
class Index {
 public:
  Index(const ::onnx::GraphProto& g, int64_t opset) : g_(g), opset_(opset) {
    for (int i = 0; i < g.node_size(); ++i) {
      for (const auto& o : g.node(i).output()) producer_[o] = i;
      for (const auto& in : g.node(i).input()) {
        if (!in.empty()) consumers_[in].push_back(i);
      }
    }
    for (const auto& o : g.output()) outputs_.insert(o.name());
    for (const auto& init : g.initializer()) initializers_[init.name()] = &init;
    taken_.assign(static_cast<size_t>(g.node_size()), false);
  }

  int64_t opset() const { return opset_; }
  const NodeProto& node(int i) const { return g_.node(i); }
  bool taken(int i) const { return taken_[static_cast<size_t>(i)]; }
  void take(int i) { taken_[static_cast<size_t>(i)] = true; }

  // Node i is an operator `op` of ONNX's domain, not taken, with an output and
  // `inputs` inputs (at least one when -1): the matchers read no further.
  bool is(int i, const char* op, int inputs = -1) const {
    if (i < 0 || taken(i) || !default_domain(node(i).domain()) || node(i).op_type() != op) {
      return false;
    }
    const int n = node(i).input_size();
    return node(i).output_size() >= 1 && (inputs < 0 ? n >= 1 : n == inputs);
  }
  // The node computing `name` (-1: an input or initializer).
  int producer(const std::string& name) const {
    const auto it = producer_.find(name);
    return it == producer_.end() ? -1 : it->second;
  }
  // The one node reading `name`, when exactly one does and it is no model output.
  int sole_consumer(const std::string& name) const {
    const auto it = consumers_.find(name);
    if (it == consumers_.end() || it->second.size() != 1 || outputs_.count(name)) return -1;
    return it->second.front();
  }
  std::vector<int> consumers(const std::string& name) const {
    const auto it = consumers_.find(name);
    return it == consumers_.end() || outputs_.count(name) ? std::vector<int>{} : it->second;
  }

  // A value known from the file: an initializer or a Constant's output.
  std::optional<Tensor> constant(const std::string& name) const {
    try {
      if (const auto it = initializers_.find(name); it != initializers_.end()) {
        return to_tensor(*it->second, name);
      }
      const int p = producer(name);
      if (p < 0 || !default_domain(node(p).domain())) return std::nullopt;
      // PyTorch names shared weights once and the others as Identity of it.
      if (node(p).op_type() == "Identity") return constant(node(p).input(0));
      if (node(p).op_type() != "Constant") return std::nullopt;
      for (const auto& a : node(p).attribute()) {
        if (a.name() == "value" && a.has_t()) return to_tensor(a.t(), name);
        if (a.name() == "value_float") return Tensor::full({}, a.f());
      }
    } catch (const Error&) {
      // Left to the converters, which report it.
    }
    return std::nullopt;
  }
  // A constant with one element (rank 0 or 1), as a float.
  std::optional<float> scalar(const std::string& name) const {
    const auto t = constant(name);
    if (!t || t->numel() != 1 || t->shape().size() > 1) return std::nullopt;
    return to_floats(*t).front();
  }

 private:
  const ::onnx::GraphProto& g_;
  int64_t opset_;
  std::map<std::string, int> producer_;
  std::map<std::string, std::vector<int>> consumers_;
  std::set<std::string> outputs_;
  std::map<std::string, const ::onnx::TensorProto*> initializers_;
  std::vector<bool> taken_;
};

bool near(std::optional<float> v, double want, double tolerance) {
  return v && std::abs(static_cast<double>(*v) - want) <= tolerance;
}

// For a node of two inputs one of which is `one`: the other.
std::optional<std::string> other(const NodeProto& n, const std::string& one) {
  if (n.input_size() != 2) return std::nullopt;
  if (n.input(0) == one) return n.input(1);
  if (n.input(1) == one) return n.input(0);
  return std::nullopt;
}

// A node of two inputs, one a scalar constant: the other input and the scalar.
std::optional<std::pair<std::string, float>> scaled(const Index& ix, int i) {
  const NodeProto& n = ix.node(i);
  if (n.input_size() != 2) return std::nullopt;
  if (const auto c = ix.scalar(n.input(1))) return std::pair{n.input(0), *c};
  if (const auto c = ix.scalar(n.input(0)); c && n.op_type() != "Div") {
    return std::pair{n.input(1), *c};
  }
  return std::nullopt;
}

struct Match {
  std::vector<int> nodes;
  NodeProto fused;
};

// The tail both forms of GELU share, x * 0.5 * (1 + f) in the orders PyTorch
// writes, from f's node: the nodes appended, the last one the output.
bool gelu_tail(const Index& ix, int f, const std::string& x, std::vector<int>& nodes) {
  const std::string fx = ix.node(f).output(0);
  const int a = ix.sole_consumer(fx);
  if (!ix.is(a, "Add", 2) || !near(ix.scalar(other(ix.node(a), fx).value_or("")), 1, 1e-6)) {
    return false;
  }
  const int m = ix.sole_consumer(ix.node(a).output(0));
  if (!ix.is(m, "Mul", 2)) return false;
  const auto y = other(ix.node(m), ix.node(a).output(0));
  if (!y) return false;
  if (*y == x) {
    // (x * (1 + f)) * 0.5
    const int half = ix.sole_consumer(ix.node(m).output(0));
    if (!ix.is(half, "Mul", 2)) return false;
    const auto h = scaled(ix, half);
    if (!h || h->first != ix.node(m).output(0) || !near(h->second, 0.5, 1e-6)) return false;
    nodes.insert(nodes.end(), {f, a, m, half});
    return true;
  }
  // (x * 0.5) * (1 + f)
  const int half = ix.producer(*y);
  if (!ix.is(half, "Mul", 2) || ix.sole_consumer(*y) != m) return false;
  const auto h = scaled(ix, half);
  if (!h || h->first != x || !near(h->second, 0.5, 1e-6)) return false;
  nodes.insert(nodes.end(), {half, f, a, m});
  return true;
}

Match gelu_node(const Index& ix, const std::string& x, std::vector<int> nodes, bool tanh) {
  Match match;
  match.nodes = std::move(nodes);
  NodeProto& g = match.fused;
  g.set_op_type("Gelu");
  g.add_input(x);
  g.add_output(ix.node(match.nodes.back()).output(0));
  if (tanh) {
    auto* a = g.add_attribute();
    a->set_name("approximate");
    a->set_type(::onnx::AttributeProto::STRING);
    a->set_s("tanh");
  }
  return match;
}

// x * 0.5 * (1 + erf(x / sqrt(2))), from its Erf.
std::optional<Match> match_gelu(const Index& ix, int erf) {
  const NodeProto& e = ix.node(erf);
  const int d = ix.producer(e.input(0));
  if (ix.sole_consumer(e.input(0)) != erf || !(ix.is(d, "Div", 2) || ix.is(d, "Mul", 2))) {
    return std::nullopt;
  }
  const auto x_over = scaled(ix, d);
  const double want = ix.node(d).op_type() == "Div" ? std::sqrt(2.0) : std::sqrt(0.5);
  if (!x_over || !near(x_over->second, want, 1e-4)) return std::nullopt;
  std::vector<int> nodes = {d};
  if (!gelu_tail(ix, erf, x_over->first, nodes)) return std::nullopt;
  return gelu_node(ix, x_over->first, std::move(nodes), false);
}

// x * 0.5 * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 x^3))), from its Tanh: x^3
// as Pow(x, 3) or x * (x * x).
std::optional<Match> match_gelu_tanh(const Index& ix, int tanh) {
  const std::string u = ix.node(tanh).input(0);
  const int outer = ix.producer(u);
  if (ix.sole_consumer(u) != tanh || !ix.is(outer, "Mul", 2)) return std::nullopt;
  const auto inner = scaled(ix, outer);
  if (!inner || !near(inner->second, std::sqrt(2.0 / 3.141592653589793), 1e-5)) {
    return std::nullopt;
  }
  const int add = ix.producer(inner->first);
  if (!ix.is(add, "Add", 2) || ix.sole_consumer(inner->first) != outer) return std::nullopt;
  // One addend is x, the other 0.044715 x^3 (whose chain reads x).
  for (int side = 0; side < 2; ++side) {
    const std::string x = ix.node(add).input(side);
    const std::string term = ix.node(add).input(1 - side);
    const int mul = ix.producer(term);
    if (!ix.is(mul, "Mul", 2) || ix.sole_consumer(term) != add) continue;
    const auto cube = scaled(ix, mul);
    if (!cube || !near(cube->second, 0.044715, 1e-7)) continue;
    const int c = ix.producer(cube->first);
    if (ix.sole_consumer(cube->first) != mul) continue;
    std::vector<int> nodes;
    if (ix.is(c, "Pow", 2) && ix.node(c).input(0) == x &&
        near(ix.scalar(ix.node(c).input(1)), 3, 0)) {
      nodes = {c};
    } else if (ix.is(c, "Mul", 2)) {
      const auto sq = other(ix.node(c), x);
      const int s = sq ? ix.producer(*sq) : -1;
      if (!ix.is(s, "Mul", 2) || ix.sole_consumer(*sq) != c || ix.node(s).input(0) != x ||
          ix.node(s).input(1) != x) {
        continue;
      }
      nodes = {s, c};
    } else {
      continue;
    }
    nodes.insert(nodes.end(), {mul, add, outer});
    if (!gelu_tail(ix, tanh, x, nodes)) return std::nullopt;
    return gelu_node(ix, x, std::move(nodes), true);
  }
  return std::nullopt;
}

// ReduceMean over the last axis, keeping it: its input, else nullopt.
std::optional<std::string> mean_of_last(const Index& ix, int i) {
  if (!ix.is(i, "ReduceMean")) return std::nullopt;
  const NodeProto& n = ix.node(i);
  std::vector<int64_t> axes;
  int64_t keep = 1;
  for (const auto& a : n.attribute()) {
    if (a.name() == "axes") axes.assign(a.ints().begin(), a.ints().end());
    if (a.name() == "keepdims") keep = a.i();
  }
  if (n.input_size() > 1 && !n.input(1).empty()) {
    const auto t = ix.constant(n.input(1));
    if (!t) return std::nullopt;
    axes = to_integers(*t);
  }
  if (keep != 1 || axes != std::vector<int64_t>{-1}) return std::nullopt;
  return n.input(0);
}

// (x - mean) / sqrt(mean((x - mean)^2) + eps) * weight + bias over the last axis,
// from the first ReduceMean.
std::optional<Match> match_layer_norm(const Index& ix, int r1) {
  const auto x = mean_of_last(ix, r1);
  if (!x) return std::nullopt;
  const int sub = ix.sole_consumer(ix.node(r1).output(0));
  if (!ix.is(sub, "Sub", 2) || ix.node(sub).input(0) != *x) return std::nullopt;
  const std::string centred = ix.node(sub).output(0);
  // Read twice: squared (Pow 2, or Mul by itself) and divided.
  int square = -1, div = -1;
  for (int c : ix.consumers(centred)) {
    if (ix.is(c, "Div", 2) && ix.node(c).input(0) == centred) {
      div = c;
    } else if ((ix.is(c, "Pow", 2) && ix.node(c).input(0) == centred &&
                near(ix.scalar(ix.node(c).input(1)), 2, 0)) ||
               (ix.is(c, "Mul", 2) && ix.node(c).input(0) == centred &&
                ix.node(c).input(1) == centred)) {
      square = c;
    } else {
      return std::nullopt;
    }
  }
  if (square < 0 || div < 0) return std::nullopt;
  const int r2 = ix.sole_consumer(ix.node(square).output(0));
  if (mean_of_last(ix, r2) != ix.node(square).output(0)) return std::nullopt;
  const int add = ix.sole_consumer(ix.node(r2).output(0));
  if (!ix.is(add, "Add", 2)) return std::nullopt;
  const auto eps = ix.scalar(other(ix.node(add), ix.node(r2).output(0)).value_or(""));
  if (!eps || !(*eps > 0)) return std::nullopt;
  const int sqrt = ix.sole_consumer(ix.node(add).output(0));
  if (!ix.is(sqrt, "Sqrt") || ix.sole_consumer(ix.node(sqrt).output(0)) != div ||
      ix.node(div).input(1) != ix.node(sqrt).output(0)) {
    return std::nullopt;
  }
  // The affine part: weight and bias of the last axis's size.
  auto affine = [&](int from, const char* op) -> std::optional<std::pair<int, std::string>> {
    const int n = ix.sole_consumer(ix.node(from).output(0));
    if (!ix.is(n, op, 2)) return std::nullopt;
    const auto w = other(ix.node(n), ix.node(from).output(0));
    if (!w) return std::nullopt;
    const auto t = ix.constant(*w);
    if (!t || t->shape().size() != 1 || t->dtype() != DType::f32) return std::nullopt;
    return std::pair{n, *w};
  };
  const auto mul = affine(div, "Mul");
  if (!mul) return std::nullopt;
  const auto bias = affine(mul->first, "Add");
  if (!bias) return std::nullopt;
  Match match;
  match.nodes = {r1, sub, square, r2, add, sqrt, div, mul->first, bias->first};
  NodeProto& g = match.fused;
  g.set_op_type("LayerNormalization");
  g.add_input(*x);
  g.add_input(mul->second);
  g.add_input(bias->second);
  g.add_output(ix.node(bias->first).output(0));
  auto* axis = g.add_attribute();
  axis->set_name("axis");
  axis->set_type(::onnx::AttributeProto::INT);
  axis->set_i(-1);
  auto* epsilon = g.add_attribute();
  epsilon->set_name("epsilon");
  epsilon->set_type(::onnx::AttributeProto::FLOAT);
  epsilon->set_f(*eps);
  return match;
}

// An Einsum that is one of attention's products, over shared leading axes:
// "...id,...jd->...ij" (queries by keys) or "...ij,...jd->...id" (weights by
// values). Spaces and ellipses allowed, as the exporters write them.
enum class EinsumForm { none, scores, values };
EinsumForm einsum_form(const Index& ix, int i) {
  if (!ix.is(i, "Einsum") || ix.node(i).input_size() != 2) return EinsumForm::none;
  std::string eq;
  for (const auto& a : ix.node(i).attribute()) {
    if (a.name() == "equation") eq = a.s();
  }
  std::erase(eq, ' ');
  const auto arrow = eq.find("->");
  const auto comma = eq.find(',');
  if (arrow == std::string::npos || comma == std::string::npos || comma > arrow) {
    return EinsumForm::none;
  }
  const std::string a = eq.substr(0, comma), b = eq.substr(comma + 1, arrow - comma - 1);
  const std::string out = eq.substr(arrow + 2);
  if (a.size() < 2 || a.size() != b.size() || a.size() != out.size()) return EinsumForm::none;
  const std::string prefix = a.substr(0, a.size() - 2);
  if (b.compare(0, prefix.size(), prefix) != 0 || out.compare(0, prefix.size(), prefix) != 0) {
    return EinsumForm::none;
  }
  const char x = a[a.size() - 2], y = a.back(), z = b[b.size() - 2], w = b.back();
  const char o1 = out[out.size() - 2], o2 = out.back();
  auto distinct = [&](char p, char q, char r) {
    const std::string letters = {p, q, r};
    return p != q && p != r && q != r && prefix.find_first_of(letters) == std::string::npos;
  };
  if (o1 != x) return EinsumForm::none;
  if (w == y && o2 == z && distinct(x, y, z)) return EinsumForm::scores;  // id,jd->ij
  if (z == y && o2 == w && distinct(x, y, w)) return EinsumForm::values;  // ij,jd->id
  return EinsumForm::none;
}

// Whether `name` is a product's result, possibly scaled by constants: which
// input of an Add is the scores (the other being the mask).
bool scores_like(const Index& ix, std::string name) {
  for (int i = ix.producer(name); i >= 0 && ix.sole_consumer(name) >= 0; i = ix.producer(name)) {
    if (ix.is(i, "MatMul", 2) || einsum_form(ix, i) == EinsumForm::scores) return true;
    if (!(ix.is(i, "Mul", 2) || ix.is(i, "Div", 2))) return false;
    const auto s = scaled(ix, i);
    if (!s) return false;
    name = s->first;
  }
  return false;
}

void add_attribute(NodeProto& n, const char* name, float f) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(::onnx::AttributeProto::FLOAT);
  a->set_f(f);
}
void add_attribute(NodeProto& n, const char* name, int64_t i) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(::onnx::AttributeProto::INT);
  a->set_i(i);
}

// The key: transposed by the exporter, unless a Transpose of its last two axes
// is there to absorb (then the key before it, and 0). An Einsum reads it
// untransposed.
int64_t absorb_key_transpose(const Index& ix, int product, int reader, std::string& key,
                             Match& match) {
  if (ix.is(product, "Einsum")) return 0;
  const int t = ix.producer(key);
  if (!ix.is(t, "Transpose") || ix.sole_consumer(key) != reader) return 1;
  std::vector<int64_t> perm;
  for (const auto& a : ix.node(t).attribute()) {
    if (a.name() == "perm") perm.assign(a.ints().begin(), a.ints().end());
  }
  const auto r = static_cast<int64_t>(perm.size());
  bool swap = r >= 2 && perm[r - 1] == r - 2 && perm[r - 2] == r - 1;
  for (int64_t k = 0; swap && k < r - 2; ++k) swap = perm[k] == k;
  if (!swap) return 1;
  key = ix.node(t).input(0);
  match.nodes.push_back(t);
  return 0;
}

// softmax(scale * A B + mask) V, from its Softmax: scale factors on A, B or the
// product, an additive mask after them, a Transpose of the key absorbed; the
// products MatMul or their Einsum forms.
std::optional<Match> match_attention(const Index& ix, int softmax) {
  const NodeProto& sm = ix.node(softmax);
  int64_t axis = ix.opset() < 13 ? 1 : -1;
  for (const auto& a : sm.attribute()) {
    if (a.name() == "axis") axis = a.i();
  }
  const int out = ix.sole_consumer(sm.output(0));
  if (!(ix.is(out, "MatMul", 2) || einsum_form(ix, out) == EinsumForm::values) ||
      ix.node(out).input(0) != sm.output(0)) {
    return std::nullopt;
  }
  Match match;
  match.nodes = {out, softmax};
  double scale = 1;
  std::string mask, cur = sm.input(0);
  bool scaled_after = false;  // a scale between the mask and the softmax
  int product = -1;
  while (product < 0) {
    const int i = ix.producer(cur);
    if (ix.sole_consumer(cur) < 0) return std::nullopt;
    if (ix.is(i, "MatMul", 2) || einsum_form(ix, i) == EinsumForm::scores) {
      product = i;
    } else if (ix.is(i, "Add", 2)) {
      if (!mask.empty() || scaled_after) return std::nullopt;
      const NodeProto& n = ix.node(i);
      const bool first = scores_like(ix, n.input(0));
      if (first == scores_like(ix, n.input(1))) return std::nullopt;
      cur = n.input(first ? 0 : 1);
      mask = n.input(first ? 1 : 0);
    } else if (ix.is(i, "Mul", 2) || ix.is(i, "Div", 2)) {
      const auto s = scaled(ix, i);
      if (!s || !(s->second != 0 && std::isfinite(s->second))) return std::nullopt;
      scale = ix.node(i).op_type() == "Div" ? scale / s->second : scale * s->second;
      scaled_after = mask.empty();
      cur = s->first;
    } else {
      return std::nullopt;
    }
    match.nodes.push_back(i);
  }
  std::string operand[2] = {ix.node(product).input(0), ix.node(product).input(1)};
  int reader[2] = {product, product};  // the node of the match reading each operand
  for (int k = 0; k < 2; ++k) {
    const int i = ix.producer(operand[k]);
    if (!ix.is(i, "Mul", 2) || ix.sole_consumer(operand[k]) != product) continue;
    const auto s = scaled(ix, i);
    if (!s || !(s->second > 0 && std::isfinite(s->second))) continue;
    scale *= s->second;
    operand[k] = s->first;
    reader[k] = i;
    match.nodes.push_back(i);
  }
  if (!(scale > 0 && std::isfinite(scale))) return std::nullopt;
  const int64_t key_transposed = absorb_key_transpose(ix, product, reader[1], operand[1], match);
  NodeProto& g = match.fused;
  g.set_domain(kFusedDomain);
  g.set_op_type("ScaledDotProductAttention");
  g.add_input(operand[0]);
  g.add_input(operand[1]);
  g.add_input(ix.node(out).input(1));
  if (!mask.empty()) g.add_input(mask);
  g.add_output(ix.node(out).output(0));
  add_attribute(g, "scale", static_cast<float>(scale));
  add_attribute(g, "key_transposed", key_transposed);
  add_attribute(g, "softmax_axis", axis);
  return match;
}

}  // namespace

FusedGraph fuse_patterns(const ::onnx::GraphProto& g, int64_t opset, bool enabled) {
  Index ix(g, opset);
  FusedGraph out;
  // Fused nodes by the index of their last original node, where they go.
  std::map<int, std::pair<NodeProto*, std::vector<const NodeProto*>>> at;
  struct Pattern {
    const char* start;
    std::optional<Match> (*match)(const Index&, int);
    const char* name;
  };
  const Pattern patterns[] = {{"Erf", &match_gelu, "Gelu"},
                              {"Tanh", &match_gelu_tanh, "Gelu"},
                              {"ReduceMean", &match_layer_norm, "LayerNormalization"},
                              {"Softmax", &match_attention, "ScaledDotProductAttention"}};
  for (const auto& p : patterns) {
    if (!enabled) break;
    for (int i = 0; i < g.node_size(); ++i) {
      if (!ix.is(i, p.start)) continue;
      auto m = p.match(ix, i);
      if (!m) continue;
      int last = 0;
      std::vector<const NodeProto*> originals;
      std::sort(m->nodes.begin(), m->nodes.end());
      for (int n : m->nodes) {
        ix.take(n);
        last = std::max(last, n);
        originals.push_back(&g.node(n));
      }
      NodeProto& fused = out.made.emplace_back(std::move(m->fused));
      // Named as the node whose output it computes: its layer's name in bdl.
      fused.set_name(g.node(last).name());
      at[last] = {&fused, std::move(originals)};
      ++out.counts[p.name];
    }
  }
  for (int i = 0; i < g.node_size(); ++i) {
    if (const auto it = at.find(i); it != at.end()) {
      out.steps.push_back({it->second.first, std::move(it->second.second)});
    } else if (!ix.taken(i)) {
      out.steps.push_back({&g.node(i), {}});
    }
  }
  return out;
}

}  // namespace bdl::onnx
