#pragma once

#include <memory>

#include "bdl/nn/layer.h"

namespace bdl::kernels {
class InnerProductKernel;
}

namespace bdl::nn {

struct RecurrentOptions {
  int64_t input_size = 0;
  int64_t hidden_size = 0;
  // The whole sequence of hidden states (N, T, H), or only the last one (N, H).
  bool return_sequences = false;
  bool bias = true;
  static void fields(auto& o, auto& field) {
    field("input_size", o.input_size);
    field("hidden_size", o.hidden_size);
    field("return_sequences", o.return_sequences);
    field("bias", o.bias, Presence::may_be_absent);
  }
};

struct GRUOptions : RecurrentOptions {
  // false: reset before the recurrent product (see GRU).
  bool reset_after = true;
  static void fields(auto& o, auto& field) {
    RecurrentOptions::fields(o, field);
    field("reset_after", o.reset_after, Presence::may_be_absent);
  }
};

// Base of the single-layer recurrent layers on batch-first input (N, T, input).
// Input projections for all time steps are one matrix product, the recurrent
// ones one per step; backward through time accumulates the weight gradients in
// one product each. Initial states are zero. Stack layers with
// return_sequences for depth.
class Recurrent : public Module {
 public:
  ~Recurrent() override;
  const Tensor& forward(const Tensor& input) override;
  const Tensor& backward(const Tensor& input, const Tensor& grad_output) override;
  std::string describe() const override;
  Shape output_shape(const Shape& input) const override;
  double flops(const Shape& input) const override;
  void own_parameters(std::vector<Parameter>& out) override;
  const RecurrentOptions& options() const { return options_; }

 protected:
  Recurrent(RecurrentOptions options, int64_t gates);
  // One step on time-major rows: gi = x W_ih^T + b_ih for this step (N, G*H);
  // h_prev (N, H) -> h (N, H). Caches what backward_step needs at step t.
  virtual void step(int64_t t, const float* gi, const float* h_prev, float* h) = 0;
  // From dh (N, H) at step t: writes dgi (N, G*H) and dgh (N, G*H), the
  // gradients of the input and recurrent projections, and adds the direct part
  // of dh_prev (through the cell, not through W_hh) into dh_prev.
  virtual void backward_step(int64_t t, const float* dh, const float* h_prev, float* dgi,
                             float* dgh, float* dh_prev) = 0;
  // Called before a forward with the batch and sequence length.
  virtual void prepare(int64_t batch, int64_t steps) = 0;

  RecurrentOptions options_;
  int64_t gates_;
  int64_t batch_ = 0, steps_ = 0;
  Tensor weight_ih_, weight_hh_, bias_ih_, bias_hh_;
  Tensor grad_weight_ih_, grad_weight_hh_, grad_bias_ih_, grad_bias_hh_;
  Tensor gh_;  // recurrent projections h W_hh^T + b_hh per step (T, N, G*H)

 private:
  std::unique_ptr<kernels::InnerProductKernel> ip_ih_, ip_hh_;
  Tensor x_tm_, gi_, hs_, zero_h_;  // time-major input, input projections, states (T+1)
  Tensor dgi_, dgh_, dh_, dh_prev_, dx_tm_, scratch_w_, scratch_gw_, scratch_gb_;
};

// Long short-term memory, as torch.nn.LSTM (batch_first, one layer): gates
// i, f, g, o in that order in weight_ih_l0 (4H, input) and weight_hh_l0 (4H, H).
class LSTM : public Layer<LSTM, Recurrent> {
 public:
  static constexpr std::string_view kType = "LSTM";
  explicit LSTM(RecurrentOptions options);

 protected:
  void step(int64_t t, const float* gi, const float* h_prev, float* h) override;
  void backward_step(int64_t t, const float* dh, const float* h_prev, float* dgi, float* dgh,
                     float* dh_prev) override;
  void prepare(int64_t batch, int64_t steps) override;

 private:
  Tensor act_;  // activated gates per step (T, N, 4H)
  Tensor c_;    // cell states (T+1, N, H)
  Tensor dc_;   // cell gradient carried back (N, H)
};

// Gated recurrent unit, as torch.nn.GRU (batch_first, one layer): gates r, z, n
// in weight_ih_l0 (3H, input) and weight_hh_l0 (3H, H);
// n = tanh(x W_in + b_in + r * (h W_hn + b_hn)), h' = (1 - z) n + z h.
// With reset_after false, the original GRU (Cho et al. 2014, ONNX's default
// linear_before_reset=0, Keras' reset_after=False) resets before the product:
// n = tanh(x W_in + b_in + (r * h) W_hn + b_hn).
class GRU : public Layer<GRU, Recurrent> {
 public:
  static constexpr std::string_view kType = "GRU";
  explicit GRU(GRUOptions options);
  explicit GRU(RecurrentOptions options, bool reset_after = true)
      : GRU(GRUOptions{options, reset_after}) {}
  std::string describe() const override;
  bool reset_after() const { return reset_after_; }
  GRUOptions options() const { return {options_, reset_after_}; }

 protected:
  void step(int64_t t, const float* gi, const float* h_prev, float* h) override;
  void backward_step(int64_t t, const float* dh, const float* h_prev, float* dgi, float* dgh,
                     float* dh_prev) override;
  void prepare(int64_t batch, int64_t steps) override;

 private:
  Tensor act_;  // r, z, n per step (T, N, 3H)
  bool reset_after_;
  // Reset before the product only: r * h and (r * h) W_hn^T + b_hn per step
  // (T, N, H), and the per-step gradient scratch.
  Tensor reset_h_, reset_q_, dq_, dreset_h_;
};

}  // namespace bdl::nn
