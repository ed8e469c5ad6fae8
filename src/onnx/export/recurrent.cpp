// Recurrent layers and embeddings.
#include "bdl/nn/recurrent.h"

#include <cstring>

#include "bdl/nn/embedding.h"
#include "onnx/export/emitter.h"

namespace bdl::onnx::exporting {
namespace {

// bdl's recurrent layers are batch-first with PyTorch's gate order; ONNX's LSTM
// and GRU are time-major (before opset 14) with gates i, o, f, c and z, r, h.
template <typename L>
std::string recurrent(Emitter& e, L& m, const Inputs& in) {
  constexpr bool kLstm = std::is_same_v<L, nn::LSTM>;
  constexpr int64_t kGates = kLstm ? 4 : 3;
  const nn::RecurrentOptions& o = m.options();
  const int64_t hidden = o.hidden_size;
  const std::string& p = in.path;
  // Block i of ONNX's weights is block order[i] of bdl's.
  const std::vector<int64_t> order =
      kLstm ? std::vector<int64_t>{0, 3, 1, 2} : std::vector<int64_t>{1, 0, 2};
  auto reorder = [&](const Tensor& t, int64_t cols) {
    Tensor out = Tensor::empty({1, kGates * hidden, cols});
    const int64_t block = hidden * cols;
    for (int64_t i = 0; i < kGates; ++i) {
      std::memcpy(out.f32() + i * block, t.f32() + order[static_cast<size_t>(i)] * block,
                  static_cast<size_t>(block) * sizeof(float));
    }
    return out;
  };
  std::string time_major;  // (N, T, I) -> (T, N, I)
  Emitter::attr(e.node("Transpose", {in.x()}, p, &time_major), "perm",
                std::vector<int64_t>{1, 0, 2});
  std::vector<std::string> args{
      time_major, e.initializer(reorder(tensor_of(m, "weight_ih_l0"), o.input_size), p + ".W"),
      e.initializer(reorder(tensor_of(m, "weight_hh_l0"), hidden), p + ".R")};
  if (o.bias) {
    const Tensor bi = reorder(tensor_of(m, "bias_ih_l0"), 1);
    const Tensor bh = reorder(tensor_of(m, "bias_hh_l0"), 1);
    Tensor b = Tensor::empty({1, 2 * kGates * hidden});
    const auto bytes = static_cast<size_t>(kGates * hidden) * sizeof(float);
    std::memcpy(b.f32(), bi.f32(), bytes);
    std::memcpy(b.f32() + kGates * hidden, bh.f32(), bytes);
    args.push_back(e.initializer(b, p + ".B"));
  }
  std::vector<std::string> outputs;  // Y (T, 1, N, H) and Y_h (1, N, H)
  auto& n = e.node_with_outputs(kLstm ? "LSTM" : "GRU", args, p, &outputs, 2);
  Emitter::attr(n, "hidden_size", hidden);
  if constexpr (!kLstm) {
    Emitter::attr(n, "linear_before_reset", int64_t{m.reset_after() ? 1 : 0});
  }
  if (o.return_sequences) {
    // (T, 1, N, H) -> (T, N, H) -> (N, T, H).
    const std::string squeezed = e.op("Squeeze", {outputs[0], e.ints({1}, p + ".axes")}, p);
    std::string out;
    Emitter::attr(e.node("Transpose", {squeezed}, p, &out), "perm", std::vector<int64_t>{1, 0, 2});
    return out;
  }
  return e.op("Squeeze", {outputs[1], e.ints({0}, p + ".axes")}, p);  // (1, N, H) -> (N, H)
}

// bdl's ids are float32 values; ONNX's Gather takes integer indices.
std::string embedding(Emitter& e, nn::Embedding& m, const Inputs& in) {
  std::string ids;
  Emitter::attr(e.node("Cast", {in.x()}, in.path, &ids), "to", int64_t{::onnx::TensorProto::INT64});
  return e.op("Gather", {e.initializer(tensor_of(m, "weight"), in.path + ".weight"), ids}, in.path);
}

}  // namespace

void add_recurrent_exporters(ExporterTable& table) {
  add<nn::LSTM>(table, recurrent<nn::LSTM>);
  add<nn::GRU>(table, recurrent<nn::GRU>);
  add<nn::Embedding>(table, embedding);
}

}  // namespace bdl::onnx::exporting
