
#include "bdl/nn/recurrent.h"

#include <cctype>
#include <cstring>

#include "bdl/nn/gather.h"
#include "bdl/nn/pad.h"
#include "bdl/nn/reduce.h"
#include "bdl/nn/reshape.h"
#include "bdl/nn/slice.h"
#include "bdl/nn/transpose.h"
#include "bdl/nn/view.h"
#include "onnx/converters/convert.h"

namespace bdl::onnx::convert {
namespace {

Tensor* parameter(Module& m, const std::string& name) {
  for (auto& p : m.parameters()) {
    if (p.name == name) return p.value;
  }
  throw Error(m.type() + " has no parameter " + name);
}

// Copies gate blocks of `rows` rows each: block i of dst is block order[i] of src.
void reorder(const Tensor& src, int64_t dir_offset, Tensor& dst, const std::vector<int>& order,
             int64_t rows_per_gate, int64_t cols) {
  const Tensor s = src.contiguous();
  const float* ps = s.f32() + dir_offset;
  float* pd = dst.f32();
  const int64_t block = rows_per_gate * cols;
  for (size_t i = 0; i < order.size(); ++i) {
    std::memcpy(pd + static_cast<int64_t>(i) * block, ps + order[i] * block,
                static_cast<size_t>(block) * sizeof(float));
  }
}

// What bdl's recurrent layers do not have: other directions, activations,
// clipping, sequence lengths, peepholes, initial states, the cell state output.
void check_supported(Context& c) {
  if (c.text("direction", "forward") != "forward") {
    c.unsupported("direction '", c.text("direction", "forward"),
                  "' (bdl's recurrent layers run forward)");
  }
  if (c.has_attribute("activations")) {
    // The defaults written out (tf2onnx does) are the defaults.
    const bool lstm = c.node().op_type() == "LSTM";
    const std::vector<std::string> defaults =
        lstm ? std::vector<std::string>{"sigmoid", "tanh", "tanh"}
             : std::vector<std::string>{"sigmoid", "tanh"};
    const auto& a = c.node().attribute();
    for (const auto& attr : a) {
      if (attr.name() != "activations") continue;
      bool same = attr.strings_size() == static_cast<int>(defaults.size());
      for (int i = 0; same && i < attr.strings_size(); ++i) {
        std::string s = attr.strings(i);
        for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        same = s == defaults[static_cast<size_t>(i)];
      }
      if (!same) c.unsupported("custom activations");
    }
  }
  if (c.has_attribute("clip")) c.unsupported("cell clipping");
  if (c.integer("input_forget", 0) != 0) c.unsupported("input_forget");
  if (c.has_input(4)) c.unsupported("sequence_lens");
  for (size_t i = 5; i < c.input_count(); ++i) {
    if (!c.has_input(i) || c.input(i).zeros) continue;
    const auto v = to_floats(c.constant_input(i, i == 7 ? "peepholes" : "the initial state"));
    for (float x : v) {
      if (x != 0.f) c.unsupported(i == 7 ? "peepholes" : "a non-zero initial state");
    }
  }
  if (c.output_used(2)) c.unsupported("the final cell state output");
}

// The layer's outputs as ONNX lays them out: Y (T, 1, N, H) or, with layout 1,
// (N, T, 1, H); Y_h (1, N, H) or (N, 1, H).
void set_recurrent_outputs(Context& c, const Value& states, bool batch_first, int64_t hidden) {
  const std::vector<int64_t> swap{1, 0, 2};
  const int64_t steps = states.shape[1];
  if (c.output_used(0)) {
    Value y = batch_first ? states : c.add(std::make_unique<nn::Transpose>(swap), {states});
    // The batch left to the run (-1): the graph runs on any batch size.
    const Shape four = batch_first ? Shape{-1, steps, 1, hidden} : Shape{steps, 1, -1, hidden};
    Value out = c.add(std::make_unique<nn::View>(four), {y});
    out.batch_axis = batch_first ? 0 : 2;
    c.set_output(0, out);
  }
  if (c.output_used(1)) {
    Value last =
        c.add(std::make_unique<nn::Slice>(std::vector<int64_t>{1}, std::vector<int64_t>{steps - 1},
                                          std::vector<int64_t>{steps}, std::vector<int64_t>{1}),
              {states});  // (N, 1, H)
    if (!batch_first) last = c.add(std::make_unique<nn::Transpose>(swap), {last});
    last.batch_axis = batch_first ? 0 : 1;
    c.set_output(1, last);
  }
}

void convert(Context& c, bool lstm) {
  const int gates = lstm ? 4 : 3;
  check_supported(c);
  const bool batch_first = c.integer("layout", 0) != 0;
  const Value& x = c.input(0);
  const Tensor& w = c.constant_input(1, "W");
  const Tensor& r = c.constant_input(2, "R");
  if (x.shape.size() != 3) c.invalid("X has shape ", shape_str(x.shape), ", expected rank 3");
  const int64_t hidden = c.integer("hidden_size", r.dim() == 3 ? r.shape()[2] : 0);
  const int64_t input_size = x.shape[2];
  if (w.shape() != Shape{1, gates * hidden, input_size} ||
      r.shape() != Shape{1, gates * hidden, hidden}) {
    c.invalid("W ", w.shape_str(), " and R ", r.shape_str(), " do not fit hidden size ", hidden,
              " and input size ", input_size);
  }
  // ONNX orders gates i, o, f, c (LSTM) and z, r, h (GRU); bdl as PyTorch: i, f, g, o and r, z, n.
  const std::vector<int> order = lstm ? std::vector<int>{0, 2, 3, 1} : std::vector<int>{1, 0, 2};
  nn::RecurrentOptions o;
  o.input_size = input_size;
  o.hidden_size = hidden;
  o.return_sequences = true;
  o.bias = true;
  std::unique_ptr<nn::Module> m;
  if (lstm) {
    m = std::make_unique<nn::LSTM>(o);
  } else {
    // linear_before_reset=0 (ONNX's default) is the GRU that resets before the product.
    m = std::make_unique<nn::GRU>(o, c.integer("linear_before_reset", 0) != 0);
  }
  reorder(w, 0, *parameter(*m, "weight_ih_l0"), order, hidden, input_size);
  reorder(r, 0, *parameter(*m, "weight_hh_l0"), order, hidden, hidden);
  Tensor* b_ih = parameter(*m, "bias_ih_l0");
  Tensor* b_hh = parameter(*m, "bias_hh_l0");
  if (c.has_input(3)) {
    const Tensor& b = c.constant_input(3, "B");
    if (b.shape() != Shape{1, int64_t{2} * gates * hidden})
      c.invalid("B has shape ", b.shape_str());
    reorder(b, 0, *b_ih, order, hidden, 1);
    reorder(b, gates * hidden, *b_hh, order, hidden, 1);
  } else {
    b_ih->zero();
    b_hh->zero();
  }
  Value seq =
      batch_first ? x : c.add(std::make_unique<nn::Transpose>(std::vector<int64_t>{1, 0, 2}), {x});
  seq.batch_axis = 0;
  set_recurrent_outputs(c, c.add(std::move(m), {seq}), batch_first, hidden);  // (N, T, H)
}

}  // namespace

void convert_lstm(Context& c) { convert(c, true); }
void convert_gru(Context& c) { convert(c, false); }

}  // namespace bdl::onnx::convert
