// The second fusion pass (fuse.h): whole self-attention blocks onto
// MultiHeadAttention, their layouts checked on element indices.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "onnx/converters/convert.h"
#include "onnx/fuse.h"

namespace bdl::onnx {
namespace {

using ::onnx::NodeProto;

// Who produces and who reads each value of the file's graph.
struct Links {
  explicit Links(const ::onnx::GraphProto& g) {
    for (int i = 0; i < g.node_size(); ++i) {
      for (const auto& o : g.node(i).output()) producer[o] = &g.node(i);
      for (const auto& in : g.node(i).input()) {
        if (!in.empty()) readers[in].push_back(&g.node(i));
      }
    }
    for (const auto& o : g.output()) outputs.insert(o.name());
  }
  const NodeProto* made(const std::string& name) const {
    const auto it = producer.find(name);
    return it == producer.end() ? nullptr : it->second;
  }
  // The one node that reads `name` for its values: Shape nodes, which read
  // only its shape (the exporters' reshape targets), aside.
  const NodeProto* sole_reader(const std::string& name) const {
    const auto it = readers.find(name);
    if (it == readers.end() || outputs.count(name)) return nullptr;
    const NodeProto* found = nullptr;
    for (const NodeProto* r : it->second) {
      if (r->op_type() == "Shape") continue;
      if (found != nullptr) return nullptr;
      found = r;
    }
    return found;
  }
  std::map<std::string, const NodeProto*> producer;
  std::map<std::string, std::vector<const NodeProto*>> readers;
  std::set<std::string> outputs;
};

bool is_layout(const NodeProto* n) {
  static const std::set<std::string, std::less<>> ops{"Reshape",   "Transpose", "Squeeze",
                                                      "Unsqueeze", "Identity",  "Flatten",
                                                      "Gather",    "Slice",     "Split"};
  return n != nullptr && (n->domain().empty() || n->domain() == "ai.onnx") &&
         ops.count(n->op_type()) > 0 && n->input_size() >= 1 && n->output_size() >= 1;
}

// The value's shape at the import's batch size plus one.
std::optional<Shape> shape_plus_one(const Value& v) {
  const int64_t b = convert::batch_size_of(v);
  if (b <= 0) return std::nullopt;
  Shape s = v.shape;
  s[static_cast<size_t>(v.batch_axis)] = s[static_cast<size_t>(v.batch_axis)] / b * (b + 1);
  return s;
}

Tensor iota(const Shape& s) {
  Tensor t(s);
  float* p = t.f32();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<float>(i);
  return t;
}

// Runs the layout nodes `chain` (in order) from `start`, holding `input`, to
// `end`: through their converters on constants, their other inputs from the
// first conversion's constants at the batch size plus one.
std::optional<Tensor> run_chain(const std::vector<const NodeProto*>& chain,
                                const std::string& start, const Tensor& input,
                                const std::string& end, const std::map<std::string, Value>& known,
                                int64_t opset) {
  nn::Graph scratch;
  std::map<std::string, Value> vals;
  vals[start] = Context::constant(input);
  std::set<std::string> consumed = {end};
  for (const NodeProto* n : chain) consumed.insert(n->input().begin(), n->input().end());
  try {
    int index = 0;
    for (const NodeProto* n : chain) {
      for (const auto& in : n->input()) {
        if (in.empty() || vals.count(in)) continue;
        const auto it = known.find(in);
        if (it == known.end() || !it->second.is_constant()) return std::nullopt;
        vals[in] =
            Context::constant(it->second.alt.defined() ? it->second.alt : it->second.constant);
      }
      Context ctx(scratch, vals, consumed, opset, *n, index++);
      find_converter(n->op_type())(ctx);
    }
  } catch (const Error&) {
    return std::nullopt;
  }
  const auto it = vals.find(end);
  if (it == vals.end() || !it->second.is_constant()) return std::nullopt;
  return it->second.constant.contiguous();
}

// How a value's rows (every dimension but the last) hold sample n and position
// l: its flat row index.
struct Rows {
  bool seq_first;
  int64_t n, l;  // counts, at the batch size plus one
  int64_t at(int64_t i, int64_t j) const { return seq_first ? j * n + i : i * l + j; }
};

std::optional<Rows> rows_of(const Value& v, int64_t n, int64_t l) {
  const Shape& s = v.shape;
  if (v.batch_axis < 0) return std::nullopt;
  if (s.size() == 3 && !v.batch_merged()) {
    if (v.batch_axis == 0 && s[1] == l) return Rows{false, n, l};
    if (v.batch_axis == 1 && s[0] == l) return Rows{true, n, l};
  }
  if (s.size() == 2 && v.batch_axis == 0) {
    if (v.batch_outer == l && v.batch_inner == 1) return Rows{true, n, l};
    if (v.batch_inner == l && v.batch_outer == 1) return Rows{false, n, l};
  }
  return std::nullopt;
}

// A projection x W + b: the MatMul with a constant weight (in, out), its bias
// added after, or a Gemm.
struct Projection {
  std::string x, out;
  Tensor weight;  // (in, out)
  Tensor bias;    // (out), or undefined
  std::vector<const NodeProto*> nodes;
};

// A float constant of the first conversion that does not change with the batch
// size (shape arithmetic that reads only other dimensions gives one).
const Tensor* constant_of(const std::map<std::string, Value>& values, const std::string& name) {
  const auto it = values.find(name);
  if (it == values.end() || !it->second.is_constant() || it->second.batch_sized ||
      it->second.constant.dtype() != DType::f32) {
    return nullptr;
  }
  const Value& v = it->second;
  if (v.alt.defined() && to_floats(v.alt) != to_floats(v.constant)) return nullptr;
  return &v.constant;
}

int64_t int_attribute(const NodeProto& n, const char* name, int64_t fallback) {
  for (const auto& a : n.attribute()) {
    if (a.name() == name) return a.i();
  }
  return fallback;
}
float float_attribute(const NodeProto& n, const char* name, float fallback) {
  for (const auto& a : n.attribute()) {
    if (a.name() == name) return a.f();
  }
  return fallback;
}

Tensor transposed(const Tensor& w) {
  const int64_t r = w.shape()[0], c = w.shape()[1];
  Tensor t({c, r});
  const Tensor src = w.contiguous();
  for (int64_t i = 0; i < r; ++i) {
    for (int64_t j = 0; j < c; ++j) t.f32()[j * r + i] = src.f32()[i * c + j];
  }
  return t;
}

// The product node (MatMul or Gemm) applied to `x` with a constant weight.
std::optional<Projection> product_of(const NodeProto* m, const std::string& x,
                                     const std::map<std::string, Value>& values) {
  if (m == nullptr || m->input_size() < 2 || m->output_size() < 1 || m->input(0) != x) {
    return std::nullopt;
  }
  const Tensor* w = constant_of(values, m->input(1));
  if (w == nullptr || w->shape().size() != 2) return std::nullopt;
  Projection p{x, m->output(0), *w, Tensor(), {m}};
  if (m->op_type() == "Gemm") {
    if (int_attribute(*m, "transA", 0) != 0 || float_attribute(*m, "alpha", 1.f) != 1.f ||
        float_attribute(*m, "beta", 1.f) != 1.f) {
      return std::nullopt;
    }
    if (int_attribute(*m, "transB", 0) != 0) p.weight = transposed(*w);
    if (m->input_size() > 2 && !m->input(2).empty()) {
      const Tensor* b = constant_of(values, m->input(2));
      if (b == nullptr || b->numel() != p.weight.shape()[1]) return std::nullopt;
      p.bias = *b;
    }
  } else if (m->op_type() != "MatMul") {
    return std::nullopt;
  }
  return p;
}

// A bias added to the projection's output, when one is (its only reader).
void add_bias(Projection& p, const Links& links, const std::map<std::string, Value>& values) {
  const NodeProto* a = links.sole_reader(p.out);
  if (p.bias.defined() || a == nullptr || a->op_type() != "Add" || a->input_size() != 2 ||
      a->output_size() < 1) {
    return;
  }
  const std::string other = a->input(0) == p.out ? a->input(1) : a->input(0);
  const Tensor* b = constant_of(values, other);
  if (b == nullptr || b->numel() != p.weight.shape()[1] || b->shape().size() > 1) return;
  p.bias = *b;
  p.out = a->output(0);
  p.nodes.push_back(a);
}

// The projection computing `name` (after its bias), from its producers.
std::optional<Projection> projection_into(const std::string& name, const Links& links,
                                          const std::map<std::string, Value>& values) {
  const NodeProto* n = links.made(name);
  if (n == nullptr) return std::nullopt;
  const NodeProto* product = n;
  if (n->op_type() == "Add" && n->input_size() == 2) {
    for (int k = 0; k < 2; ++k) {
      const NodeProto* m = links.made(n->input(k));
      if (m != nullptr && (m->op_type() == "MatMul" || m->op_type() == "Gemm")) product = m;
    }
  }
  if ((product->op_type() != "MatMul" && product->op_type() != "Gemm") ||
      product->input_size() < 2) {
    return std::nullopt;
  }
  auto p = product_of(product, product->input(0), values);
  if (!p) return std::nullopt;
  if (product != n) {
    add_bias(*p, links, values);
    if (p->out != name) return std::nullopt;
  }
  return p;
}

// Layout nodes back from `name` to the first other node's output.
std::vector<const NodeProto*> layout_back(std::string& name, const Links& links) {
  std::vector<const NodeProto*> chain;
  for (const NodeProto* n = links.made(name); is_layout(n); n = links.made(name)) {
    chain.insert(chain.begin(), n);
    name = n->input(0);
  }
  return chain;
}

struct Operand {
  Projection projection;
  std::vector<const NodeProto*> chain;  // from the projection's output to the operand
  int64_t offset = 0;                   // of its heads within the projection's outputs
};

// Whether `idx` (the projection's element each element of an operand of shape
// s holds, at the batch size plus one) is (sample, head, position, feature)
// taken from rows.at(n, l) * f + offset + h * d + j, the key possibly
// transposed; sets the offset.
bool holds_heads(const Tensor& idx, const Shape& s, bool transposed, const Rows& rows,
                 int64_t heads, int64_t f, int64_t& offset) {
  const size_t r = s.size();
  if (r < 3) return false;
  const int64_t d = transposed ? s[r - 2] : s[r - 1], l = transposed ? s[r - 1] : s[r - 2];
  if (l != rows.l || idx.numel() != rows.n * heads * l * d) return false;
  const float* p = idx.f32();
  offset = static_cast<int64_t>(p[0]) % f;
  if (offset + heads * d > f) return false;
  for (int64_t g = 0; g < rows.n * heads; ++g) {
    const int64_t n = g / heads, h = g % heads;
    for (int64_t i = 0; i < l; ++i) {
      for (int64_t j = 0; j < d; ++j) {
        const int64_t at = transposed ? (g * d + j) * l + i : (g * l + i) * d + j;
        if (static_cast<int64_t>(p[at]) != rows.at(n, i) * f + offset + h * d + j) return false;
      }
    }
  }
  return true;
}

struct Block {
  std::string input, output;
  int64_t heads = 0, embed = 0;
  bool causal = false;
  Tensor in_weight, in_bias, out_weight, out_bias;
  std::set<const NodeProto*> nodes;
};

// A constant mask that is causal: 0 on and below the diagonal, at most -1e4
// above (a weight of exp(-1e4) is 0 in float, as -inf's).
bool causal_mask(const Tensor& m) {
  const Shape& s = m.shape();
  if (s.size() < 2 || shape_numel(s) != s[s.size() - 1] * s[s.size() - 2]) return false;
  const int64_t l = s.back();
  if (s[s.size() - 2] != l) return false;
  const Tensor c = m.contiguous();
  for (int64_t i = 0; i < l; ++i) {
    for (int64_t j = 0; j < l; ++j) {
      const float v = c.f32()[i * l + j];
      if (j > i ? !(v <= -1e4f) : v != 0.f) return false;
    }
  }
  return true;
}

class BlockFinder {
 public:
  BlockFinder(const Links& links, const std::map<std::string, Value>& values, int64_t opset)
      : links_(links), values_(values), opset_(opset) {}

  std::optional<Block> find(const FusedGraph::Step& core);

 private:
  bool operand(const std::string& name, bool transposed, Operand& out);
  bool input_side(const std::string& x, std::string& source, std::vector<const NodeProto*>& chain);
  bool output_side(const std::string& o, Block& block);
  const Value* value(const std::string& name) const {
    const auto it = values_.find(name);
    return it == values_.end() ? nullptr : &it->second;
  }

  const Links& links_;
  const std::map<std::string, Value>& values_;
  int64_t opset_;
  int64_t n_ = 0, l_ = 0, heads_ = 0, d_ = 0;
};

// An operand of the core back to its projection, checked on indices.
bool BlockFinder::operand(const std::string& name, bool transposed, Operand& out) {
  std::string p = name;
  out.chain = layout_back(p, links_);
  auto proj = projection_into(p, links_, values_);
  const Value* pv = value(p);
  const Value* ov = value(name);
  if (!proj || pv == nullptr || ov == nullptr) return false;
  const auto rows = rows_of(*pv, n_, l_);
  const auto start = shape_plus_one(*pv);
  if (!rows || !start || shape_numel(*start) >= (int64_t{1} << 24)) return false;
  const auto idx = run_chain(out.chain, p, iota(*start), name, values_, opset_);
  if (!idx) return false;
  out.projection = std::move(*proj);
  return holds_heads(*idx, ov->shape, transposed, *rows, heads_, out.projection.weight.shape()[1],
                     out.offset);
}

// The projections' input back to a (batch, length, embedding) value.
bool BlockFinder::input_side(const std::string& x, std::string& source,
                             std::vector<const NodeProto*>& chain) {
  source = x;
  chain = layout_back(source, links_);
  const Value* sv = value(source);
  const Value* xv = value(x);
  if (sv == nullptr || xv == nullptr || sv->shape.size() != 3 || sv->batch_axis != 0 ||
      sv->batch_merged() || sv->shape[1] != l_ || sv->shape[2] != heads_ * d_) {
    return false;
  }
  const auto rows = rows_of(*xv, n_, l_);
  const auto start = shape_plus_one(*sv);
  if (!rows || !start) return false;
  const auto idx = run_chain(chain, source, iota(*start), x, values_, opset_);
  const int64_t e = heads_ * d_;
  if (!idx || idx->numel() != n_ * l_ * e) return false;
  for (int64_t n = 0; n < n_; ++n) {
    for (int64_t i = 0; i < l_; ++i) {
      for (int64_t j = 0; j < e; ++j) {
        if (static_cast<int64_t>(idx->f32()[rows->at(n, i) * e + j]) != (n * l_ + i) * e + j) {
          return false;
        }
      }
    }
  }
  return true;
}

// Layout nodes forward from `name` while each is its value's only reader.
std::vector<const NodeProto*> layout_forward(std::string& name, const Links& links) {
  std::vector<const NodeProto*> chain;
  for (const NodeProto* n = links.sole_reader(name);
       is_layout(n) && n->op_type() != "Split" && n->input(0) == name;
       n = links.sole_reader(name)) {
    chain.push_back(n);
    name = n->output(0);
  }
  return chain;
}

// From the core's output: the heads joined, the output projection, and the
// layout back to (batch, length, embedding).
bool BlockFinder::output_side(const std::string& o, Block& block) {
  const int64_t e = heads_ * d_;
  std::string c = o;
  auto chain = layout_forward(c, links_);
  const Value* ov = value(o);
  const Value* cv = value(c);
  if (ov == nullptr || cv == nullptr) return false;
  const auto rows = rows_of(*cv, n_, l_);
  const auto start = shape_plus_one(*ov);
  if (!rows || !start || shape_numel(*start) != n_ * heads_ * l_ * d_) return false;
  const auto idx = run_chain(chain, o, iota(*start), c, values_, opset_);
  if (!idx || idx->numel() != n_ * l_ * e) return false;
  for (int64_t g = 0; g < n_ * heads_; ++g) {
    for (int64_t i = 0; i < l_; ++i) {
      for (int64_t j = 0; j < d_; ++j) {
        const int64_t at = rows->at(g / heads_, i) * e + (g % heads_) * d_ + j;
        if (static_cast<int64_t>(idx->f32()[at]) != (g * l_ + i) * d_ + j) return false;
      }
    }
  }
  block.nodes.insert(chain.begin(), chain.end());
  auto proj = product_of(links_.sole_reader(c), c, values_);
  if (!proj || proj->weight.shape() != Shape{e, e}) return false;
  add_bias(*proj, links_, values_);
  block.nodes.insert(proj->nodes.begin(), proj->nodes.end());
  block.out_weight = transposed(proj->weight);
  block.out_bias = proj->bias.defined() ? proj->bias.contiguous().view({e}) : Tensor({e});
  // Forward from the projection to where the layout is (batch, length, E).
  std::string y = proj->out;
  const Value* y0 = value(y);
  const auto y0_rows = y0 == nullptr ? std::nullopt : rows_of(*y0, n_, l_);
  const auto y0_start = y0 == nullptr ? std::nullopt : shape_plus_one(*y0);
  if (!y0_rows || !y0_start) return false;
  std::vector<const NodeProto*> tail;
  for (std::string end = y;;) {
    const Value* ev = value(end);
    const auto idx_y = run_chain(tail, y, iota(*y0_start), end, values_, opset_);
    bool identity = ev != nullptr && ev->shape.size() == 3 && ev->batch_axis == 0 &&
                    !ev->batch_merged() && ev->shape[1] == l_ && ev->shape[2] == e && idx_y;
    for (int64_t n = 0; identity && n < n_; ++n) {
      for (int64_t i = 0; identity && i < l_; ++i) {
        for (int64_t j = 0; identity && j < e; ++j) {
          identity =
              static_cast<int64_t>(idx_y->f32()[(n * l_ + i) * e + j]) == y0_rows->at(n, i) * e + j;
        }
      }
    }
    if (identity) {
      block.nodes.insert(tail.begin(), tail.end());
      block.output = end;
      return true;
    }
    const NodeProto* next = links_.sole_reader(end);
    if (!is_layout(next) || next->op_type() == "Split" || next->input(0) != end) return false;
    tail.push_back(next);
    end = next->output(0);
  }
}

std::optional<Block> BlockFinder::find(const FusedGraph::Step& core) {
  const NodeProto& n = *core.node;
  if (n.input_size() > 4) return std::nullopt;
  const bool key_transposed = int_attribute(n, "key_transposed", 0) != 0;
  const Value* q = value(n.input(0));
  const Value* o = value(n.output(0));
  if (q == nullptr || o == nullptr || q->shape.size() < 3) return std::nullopt;
  const auto q1 = shape_plus_one(*q);
  if (!q1) return std::nullopt;
  // The heads: (N, H, L, d) or (N * H, L, d).
  n_ = convert::batch_size_of(*q) + 1;
  l_ = q->shape[q->shape.size() - 2];
  d_ = q->shape.back();
  const int64_t groups = shape_numel(std::span(*q1).first(q1->size() - 2));
  if (groups % n_ != 0) return std::nullopt;
  heads_ = groups / n_;
  // Scale factors the first pass could not read (computed from shapes, as the
  // TorchScript exporter's sqrt(1 / sqrt(d)) on the query and the key) are
  // constants now.
  double scale = float_attribute(n, "scale", 0.f);
  std::string operands[3] = {n.input(0), n.input(1), n.input(2)};
  std::vector<const NodeProto*> scalings;
  for (int k = 0; k < 2; ++k) {
    for (const NodeProto* m = links_.made(operands[k]);
         m != nullptr && (m->op_type() == "Mul" || m->op_type() == "Div") && m->input_size() == 2 &&
         links_.sole_reader(operands[k]) != nullptr;
         m = links_.made(operands[k])) {
      const Tensor* c = constant_of(values_, m->input(1));
      std::string other = m->input(0);
      if (c == nullptr && m->op_type() == "Mul") {
        c = constant_of(values_, m->input(0));
        other = m->input(1);
      }
      if (c == nullptr || c->numel() != 1) break;
      const double f = c->contiguous().f32()[0];
      scale = m->op_type() == "Div" ? scale / f : scale * f;
      scalings.push_back(m);
      operands[k] = other;
    }
  }
  if (std::abs(scale * std::sqrt(static_cast<double>(d_)) - 1) > 1e-5) return std::nullopt;
  Block block;
  block.heads = heads_;
  block.embed = heads_ * d_;
  if (n.input_size() == 4) {
    const Tensor* mask = constant_of(values_, n.input(3));
    if (mask == nullptr || !causal_mask(*mask) || mask->shape().back() != l_) return std::nullopt;
    block.causal = true;
  }
  Operand part[3];
  for (int k = 0; k < 3; ++k) {
    if (!operand(operands[k], k == 1 && key_transposed, part[k])) return std::nullopt;
    if (part[k].projection.x != part[0].projection.x) return std::nullopt;
    block.nodes.insert(part[k].chain.begin(), part[k].chain.end());
    block.nodes.insert(part[k].projection.nodes.begin(), part[k].projection.nodes.end());
  }
  std::vector<const NodeProto*> in_chain;
  if (!input_side(part[0].projection.x, block.input, in_chain)) return std::nullopt;
  block.nodes.insert(in_chain.begin(), in_chain.end());
  const int64_t e = block.embed;
  block.in_weight = Tensor({3 * e, e});
  block.in_bias = Tensor({3 * e});
  for (int k = 0; k < 3; ++k) {
    const Projection& p = part[k].projection;
    if (p.weight.shape()[0] != e) return std::nullopt;
    const int64_t f = p.weight.shape()[1];
    const Tensor w = p.weight.contiguous();
    const Tensor b = p.bias.defined() ? p.bias.contiguous() : Tensor();
    for (int64_t r = 0; r < e; ++r) {
      for (int64_t c = 0; c < e; ++c) {
        block.in_weight.f32()[(k * e + r) * e + c] = w.f32()[c * f + part[k].offset + r];
      }
      block.in_bias.f32()[k * e + r] = b.defined() ? b.f32()[part[k].offset + r] : 0.f;
    }
  }
  block.nodes.insert(core.originals.begin(), core.originals.end());
  block.nodes.insert(scalings.begin(), scalings.end());
  if (!output_side(n.output(0), block)) return std::nullopt;
  return block;
}

void set_tensor(NodeProto& n, const char* name, const Tensor& t) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(::onnx::AttributeProto::TENSOR);
  auto* p = a->mutable_t();
  p->set_data_type(::onnx::TensorProto::FLOAT);
  for (int64_t d : t.shape()) p->add_dims(d);
  const Tensor c = t.contiguous();
  p->set_raw_data(c.f32(), static_cast<size_t>(c.numel()) * sizeof(float));
}

void set_int(NodeProto& n, const char* name, int64_t v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(::onnx::AttributeProto::INT);
  a->set_i(v);
}

// The block's nodes and those only they read (shape arithmetic on removed
// values), when no value of theirs but the block's output is read outside.
bool close_over(std::set<const NodeProto*>& nodes, const std::string& input,
                const std::string& output, const Links& links, const ::onnx::GraphProto& g) {
  const NodeProto* source = links.made(input);
  for (bool grew = true; grew;) {
    grew = false;
    for (const auto& n : g.node()) {
      if (nodes.count(&n) || n.output_size() == 0 || &n == source) continue;
      bool only_block = true;
      for (const auto& o : n.output()) {
        const auto it = links.readers.find(o);
        if (links.outputs.count(o) || it == links.readers.end()) {
          only_block = false;
          continue;
        }
        for (const NodeProto* r : it->second) only_block = only_block && nodes.count(r) > 0;
      }
      if (only_block) grew = nodes.insert(&n).second || grew;
    }
  }
  for (const NodeProto* n : nodes) {
    for (const auto& o : n->output()) {
      if (o == output) continue;
      if (links.outputs.count(o)) return false;
      const auto it = links.readers.find(o);
      if (it == links.readers.end()) continue;
      for (const NodeProto* r : it->second) {
        if (!nodes.count(r)) return false;
      }
    }
  }
  return true;
}

}  // namespace

std::optional<FusedGraph> fuse_attention_blocks(const ::onnx::GraphProto& g,
                                                const FusedGraph& first,
                                                const std::map<std::string, Value>& values,
                                                int64_t opset) {
  const Links links(g);
  std::vector<Block> blocks;
  std::set<const NodeProto*> taken;
  for (const auto& step : first.steps) {
    if (!first.kept.count(step.node) || step.node->op_type() != "ScaledDotProductAttention") {
      continue;
    }
    BlockFinder finder(links, values, opset);
    auto block = finder.find(step);
    if (!block || !close_over(block->nodes, block->input, block->output, links, g)) continue;
    if (std::any_of(block->nodes.begin(), block->nodes.end(),
                    [&](const NodeProto* n) { return taken.count(n) > 0; })) {
      continue;
    }
    taken.insert(block->nodes.begin(), block->nodes.end());
    blocks.push_back(std::move(*block));
  }
  // A block takes the fused steps it touches whole, or it is dropped.
  for (const auto& step : first.steps) {
    std::set<size_t> touching;
    bool outside = false;
    for (const NodeProto* n : step.originals) {
      bool found = false;
      for (size_t i = 0; i < blocks.size(); ++i) {
        if (blocks[i].nodes.count(n)) {
          touching.insert(i);
          found = true;
        }
      }
      outside = outside || !found;
    }
    if (outside || touching.size() > 1) {
      for (size_t i : touching) blocks[i].nodes.clear();
    }
  }
  std::erase_if(blocks, [](const Block& b) { return b.nodes.empty(); });
  taken.clear();
  for (const Block& b : blocks) taken.insert(b.nodes.begin(), b.nodes.end());
  if (blocks.empty()) return std::nullopt;
  FusedGraph out;
  std::map<std::string, size_t> block_of;  // output -> block
  for (size_t i = 0; i < blocks.size(); ++i) block_of[blocks[i].output] = i;
  for (const auto& step : first.steps) {
    // A step whose nodes all belong to a block goes; one partly in a block
    // cannot be (blocks take whole fused steps or none).
    const std::vector<const NodeProto*> own =
        step.originals.empty() ? std::vector<const NodeProto*>{step.node} : step.originals;
    const bool in_block =
        std::all_of(own.begin(), own.end(), [&](const NodeProto* n) { return taken.count(n) > 0; });
    if (!in_block) {
      out.steps.push_back(step);
      continue;
    }
    const auto produced = std::find_if(step.node->output().begin(), step.node->output().end(),
                                       [&](const std::string& o) { return block_of.count(o); });
    if (produced == step.node->output().end()) continue;
    const Block& b = blocks[block_of.at(*produced)];
    NodeProto& fused = out.made.emplace_back();
    fused.set_domain(kFusedDomain);
    fused.set_op_type("MultiHeadAttention");
    fused.set_name(step.node->name());
    fused.add_input(b.input);
    fused.add_output(b.output);
    set_int(fused, "num_heads", b.heads);
    set_int(fused, "causal", b.causal ? 1 : 0);
    set_tensor(fused, "in_proj_weight", b.in_weight);
    set_tensor(fused, "in_proj_bias", b.in_bias);
    set_tensor(fused, "out_proj_weight", b.out_weight);
    set_tensor(fused, "out_proj_bias", b.out_bias);
    std::vector<const NodeProto*> originals;
    for (const auto& n : g.node()) {
      if (b.nodes.count(&n)) originals.push_back(&n);
    }
    out.steps.push_back({&fused, std::move(originals)});
    ++out.counts["MultiHeadAttention"];
  }
  return out;
}

}  // namespace bdl::onnx
