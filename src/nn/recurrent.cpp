#include "bdl/nn/recurrent.h"

#include <cmath>
#include <cstring>

#include "bdl/kernels/gemm.h"
#include "bdl/kernels/inner_product.h"
#include "nn/init.h"

namespace bdl::nn {
namespace {

float sigmoid(float x) { return 1.f / (1.f + std::exp(-x)); }

// (A, B, C) -> (B, A, C) for a contiguous float array.
void swap_leading(const float* src, float* dst, int64_t a, int64_t b, int64_t c) {
  for (int64_t i = 0; i < a; ++i) {
    for (int64_t j = 0; j < b; ++j) {
      std::memcpy(dst + (j * a + i) * c, src + (i * b + j) * c,
                  sizeof(float) * static_cast<size_t>(c));
    }
  }
}

}  // namespace

Recurrent::Recurrent(RecurrentOptions options, int64_t gates)
    : options_(options),
      gates_(gates),
      ip_ih_(std::make_unique<kernels::InnerProductKernel>()),
      ip_hh_(std::make_unique<kernels::InnerProductKernel>()) {
  BDL_CHECK(options.input_size > 0 && options.hidden_size > 0,
            "recurrent layer: input_size and hidden_size must be positive");
  const int64_t h = options.hidden_size, g = gates * h;
  weight_ih_ = new_weight({g, options.input_size});
  weight_hh_ = new_weight({g, h});
  grad_weight_ih_ = Tensor(weight_ih_.shape());
  grad_weight_hh_ = Tensor(weight_hh_.shape());
  const float bound = 1.f / std::sqrt(static_cast<float>(h));
  init_uniform(weight_ih_, bound);
  init_uniform(weight_hh_, bound);
  if (options.bias) {
    bias_ih_ = Tensor({g});
    bias_hh_ = Tensor({g});
    grad_bias_ih_ = Tensor({g});
    grad_bias_hh_ = Tensor({g});
    init_uniform(bias_ih_, bound);
    init_uniform(bias_hh_, bound);
  }
}

Recurrent::~Recurrent() = default;

std::string Recurrent::describe() const {
  return detail::concat(type(), "(", options_.input_size, " -> ", options_.hidden_size,
                        options_.return_sequences ? ", sequences" : ", last state",
                        options_.bias ? "" : ", no bias", ")");
}

Shape Recurrent::output_shape(const Shape& input) const {
  BDL_CHECK(input.size() == 3 && input[1] > 0, label(),
            ": expected input (batch, time, features), got ", shape_str(input));
  BDL_CHECK(input[2] == options_.input_size, label(), ": input of shape ", shape_str(input),
            " has ", input[2], " features, expected ", options_.input_size);
  if (options_.return_sequences) return {input[0], input[1], options_.hidden_size};
  return {input[0], options_.hidden_size};
}

double Recurrent::flops(const Shape& input) const {
  output_shape(input);
  const double g = static_cast<double>(gates_ * options_.hidden_size);
  return 2.0 * static_cast<double>(input[0] * input[1]) *
         (static_cast<double>(options_.input_size) + static_cast<double>(options_.hidden_size)) * g;
}

void Recurrent::own_parameters(std::vector<Parameter>& out) {
  out.push_back({"weight_ih_l0", &weight_ih_, &grad_weight_ih_});
  out.push_back({"weight_hh_l0", &weight_hh_, &grad_weight_hh_});
  if (options_.bias) {
    out.push_back({"bias_ih_l0", &bias_ih_, &grad_bias_ih_});
    out.push_back({"bias_hh_l0", &bias_hh_, &grad_bias_hh_});
  }
}

const Tensor& Recurrent::forward(const Tensor& input) {
  const Shape out_shape = output_shape(input.shape());
  const Tensor x = input.contiguous();
  const int64_t n = x.size(0), steps = x.size(1), in = options_.input_size;
  const int64_t h = options_.hidden_size, g = gates_ * h;
  const bool bias = options_.bias;
  batch_ = n;
  steps_ = steps;
  prepare(n, steps);
  x_tm_.resize({steps, n, in});
  swap_leading(x.f32(), x_tm_.f32(), n, steps, in);
  gi_.resize({steps, n, g});
  ip_ih_->forward(steps * n, in, g, bias, x_tm_.f32(), weight_ih_.f32(),
                  bias ? bias_ih_.f32() : nullptr, gi_.f32(), pass());
  gh_.resize({steps, n, g});
  hs_.resize({steps + 1, n, h});
  std::memset(hs_.f32(), 0, sizeof(float) * static_cast<size_t>(n * h));
  for (int64_t t = 0; t < steps; ++t) {
    const float* h_prev = hs_.f32() + t * n * h;
    ip_hh_->forward(n, h, g, bias, h_prev, weight_hh_.f32(), bias ? bias_hh_.f32() : nullptr,
                    gh_.f32() + t * n * g, pass());
    step(t, gi_.f32() + t * n * g, h_prev, hs_.f32() + (t + 1) * n * h);
  }
  output_.resize(out_shape);
  if (options_.return_sequences) {
    swap_leading(hs_.f32() + n * h, output_.f32(), steps, n, h);
  } else {
    std::memcpy(output_.f32(), hs_.f32() + steps * n * h,
                sizeof(float) * static_cast<size_t>(n * h));
  }
  return output_;
}

const Tensor& Recurrent::backward(const Tensor& input, const Tensor& grad_output) {
  const Shape out_shape = output_shape(input.shape());
  check_grad_output(grad_output, out_shape);
  BDL_CHECK(input.size(0) == batch_ && input.size(1) == steps_, label(),
            ": backward without a forward of this shape");
  const Tensor dy = grad_output.contiguous();
  const int64_t n = batch_, steps = steps_, in = options_.input_size;
  const int64_t h = options_.hidden_size, g = gates_ * h;
  const bool bias = options_.bias;
  dgi_.resize({steps, n, g});
  dgh_.resize({steps, n, g});
  dh_.resize({n, h});
  dh_prev_.resize({n, h});
  scratch_w_.resize({n, h});
  if (options_.return_sequences) {
    dh_.zero();
  } else {
    std::memcpy(dh_.f32(), dy.f32(), sizeof(float) * static_cast<size_t>(n * h));
  }
  for (int64_t t = steps - 1; t >= 0; --t) {
    float* dh = dh_.f32();
    if (options_.return_sequences) {
      for (int64_t b = 0; b < n; ++b) {
        const float* src = dy.f32() + (b * steps + t) * h;
        for (int64_t j = 0; j < h; ++j) dh[b * h + j] += src[j];
      }
    }
    dh_prev_.zero();
    float* dgi = dgi_.f32() + t * n * g;
    float* dgh = dgh_.f32() + t * n * g;
    backward_step(t, dh, hs_.f32() + t * n * h, dgi, dgh, dh_prev_.f32());
    // Through the recurrent weights: dh_prev += dgh W_hh.
    ip_hh_->backward_data(n, h, g, dgh, weight_hh_.f32(), scratch_w_.f32());
    accumulate(dh_prev_, scratch_w_);
    std::swap(dh_, dh_prev_);
  }
  // Weight gradients over all steps at once.
  auto add_weights = [&](kernels::InnerProductKernel& ip, int64_t rows, int64_t k, const float* src,
                         const float* d, Tensor& gw, Tensor& gb) {
    scratch_gw_.resize(gw.shape());
    if (bias) scratch_gb_.resize(gb.shape());
    ip.backward_weights(rows, k, g, bias, src, d, scratch_gw_.f32(),
                        bias ? scratch_gb_.f32() : nullptr);
    accumulate(gw, scratch_gw_);
    if (bias) accumulate(gb, scratch_gb_);
  };
  add_weights(*ip_ih_, steps * n, in, x_tm_.f32(), dgi_.f32(), grad_weight_ih_, grad_bias_ih_);
  add_weights(*ip_hh_, steps * n, h, hs_.f32(), dgh_.f32(), grad_weight_hh_, grad_bias_hh_);
  grads_are_zero_ = false;
  if (needs_input_grad_) {
    dx_tm_.resize({steps, n, in});
    ip_ih_->backward_data(steps * n, in, g, dgi_.f32(), weight_ih_.f32(), dx_tm_.f32());
    grad_input_.resize({n, steps, in});
    swap_leading(dx_tm_.f32(), grad_input_.f32(), steps, n, in);
  }
  return grad_input_;
}

LSTM::LSTM(RecurrentOptions options) : Layer(options, 4) {}

void LSTM::prepare(int64_t batch, int64_t steps) {
  const int64_t h = options_.hidden_size;
  act_.resize({steps, batch, 4 * h});
  c_.resize({steps + 1, batch, h});
  std::memset(c_.f32(), 0, sizeof(float) * static_cast<size_t>(batch * h));
}

void LSTM::step(int64_t t, const float* gi, const float* /*h_prev*/, float* h_out) {
  const int64_t n = batch_, h = options_.hidden_size;
  const float* gh = gh_.f32() + t * n * 4 * h;
  float* act = act_.f32() + t * n * 4 * h;
  const float* c_prev = c_.f32() + t * n * h;
  float* c = c_.f32() + (t + 1) * n * h;
  for (int64_t b = 0; b < n; ++b) {
    const float* x = gi + b * 4 * h;
    const float* r = gh + b * 4 * h;
    float* a = act + b * 4 * h;
    for (int64_t j = 0; j < h; ++j) {
      const float i = sigmoid(x[j] + r[j]);
      const float f = sigmoid(x[h + j] + r[h + j]);
      const float gg = std::tanh(x[2 * h + j] + r[2 * h + j]);
      const float o = sigmoid(x[3 * h + j] + r[3 * h + j]);
      a[j] = i;
      a[h + j] = f;
      a[2 * h + j] = gg;
      a[3 * h + j] = o;
      const float cell = f * c_prev[b * h + j] + i * gg;
      c[b * h + j] = cell;
      h_out[b * h + j] = o * std::tanh(cell);
    }
  }
}

void LSTM::backward_step(int64_t t, const float* dh, const float* /*h_prev*/, float* dgi,
                         float* dgh, float* /*dh_prev*/) {
  const int64_t n = batch_, h = options_.hidden_size;
  if (t == steps_ - 1) {
    dc_.resize({n, h});
    dc_.zero();
  }
  const float* act = act_.f32() + t * n * 4 * h;
  const float* c_prev = c_.f32() + t * n * h;
  const float* c = c_.f32() + (t + 1) * n * h;
  float* dc = dc_.f32();
  for (int64_t b = 0; b < n; ++b) {
    const float* a = act + b * 4 * h;
    float* d = dgi + b * 4 * h;
    for (int64_t j = 0; j < h; ++j) {
      const float i = a[j], f = a[h + j], gg = a[2 * h + j], o = a[3 * h + j];
      const float tc = std::tanh(c[b * h + j]);
      const float dhj = dh[b * h + j];
      const float dcell = dc[b * h + j] + dhj * o * (1 - tc * tc);
      d[j] = dcell * gg * i * (1 - i);
      d[h + j] = dcell * c_prev[b * h + j] * f * (1 - f);
      d[2 * h + j] = dcell * i * (1 - gg * gg);
      d[3 * h + j] = dhj * tc * o * (1 - o);
      dc[b * h + j] = dcell * f;
    }
  }
  std::memcpy(dgh, dgi, sizeof(float) * static_cast<size_t>(n * 4 * h));
}

GRU::GRU(GRUOptions options) : Layer(options, 3), reset_after_(options.reset_after) {}

std::string GRU::describe() const {
  const std::string d = Layer::describe();
  return reset_after_ ? d : d.substr(0, d.size() - 1) + ", reset before)";
}

void GRU::prepare(int64_t batch, int64_t steps) {
  act_.resize({steps, batch, 3 * options_.hidden_size});
  if (!reset_after_) {
    reset_h_.resize({steps, batch, options_.hidden_size});
    reset_q_.resize({steps, batch, options_.hidden_size});
  }
}

void GRU::step(int64_t t, const float* gi, const float* h_prev, float* h_out) {
  const int64_t n = batch_, h = options_.hidden_size;
  const float* gh = gh_.f32() + t * n * 3 * h;
  float* act = act_.f32() + t * n * 3 * h;
  if (!reset_after_) {
    // r first, then q = (r * h) W_hn^T + b_hn, then the rest of the cell.
    float* rh = reset_h_.f32() + t * n * h;
    float* q = reset_q_.f32() + t * n * h;
    for (int64_t b = 0; b < n; ++b) {
      for (int64_t j = 0; j < h; ++j) {
        const float rr = sigmoid(gi[b * 3 * h + j] + gh[b * 3 * h + j]);
        act[b * 3 * h + j] = rr;
        rh[b * h + j] = rr * h_prev[b * h + j];
      }
    }
    kernels::gemm(false, true, n, h, h, 1.f, rh, h, weight_hh_.f32() + 2 * h * h, h, 0.f, q, h);
    for (int64_t b = 0; b < n; ++b) {
      const float* x = gi + b * 3 * h;
      const float* r = gh + b * 3 * h;
      float* a = act + b * 3 * h;
      for (int64_t j = 0; j < h; ++j) {
        const float z = sigmoid(x[h + j] + r[h + j]);
        const float qb = q[b * h + j] + (options_.bias ? bias_hh_.f32()[2 * h + j] : 0.f);
        const float nn = std::tanh(x[2 * h + j] + qb);
        a[h + j] = z;
        a[2 * h + j] = nn;
        h_out[b * h + j] = (1 - z) * nn + z * h_prev[b * h + j];
      }
    }
    return;
  }
  for (int64_t b = 0; b < n; ++b) {
    const float* x = gi + b * 3 * h;
    const float* r = gh + b * 3 * h;
    float* a = act + b * 3 * h;
    for (int64_t j = 0; j < h; ++j) {
      const float rr = sigmoid(x[j] + r[j]);
      const float z = sigmoid(x[h + j] + r[h + j]);
      const float nn = std::tanh(x[2 * h + j] + rr * r[2 * h + j]);
      a[j] = rr;
      a[h + j] = z;
      a[2 * h + j] = nn;
      h_out[b * h + j] = (1 - z) * nn + z * h_prev[b * h + j];
    }
  }
}

void GRU::backward_step(int64_t t, const float* dh, const float* h_prev, float* dgi, float* dgh,
                        float* dh_prev) {
  const int64_t n = batch_, h = options_.hidden_size;
  const float* act = act_.f32() + t * n * 3 * h;
  const float* gh = gh_.f32() + t * n * 3 * h;
  if (!reset_after_) {
    // dq = dn_pre; d(r * h) = dq W_hn; W_hn and b_hn get their gradients here, so
    // the n rows of dgh stay zero for the base class's recurrent products.
    dq_.resize({n, h});
    dreset_h_.resize({n, h});
    float* dq = dq_.f32();
    for (int64_t b = 0; b < n; ++b) {
      const float* a = act + b * 3 * h;
      for (int64_t j = 0; j < h; ++j) {
        const float z = a[h + j], nn = a[2 * h + j];
        const float dhj = dh[b * h + j];
        const float dn_pre = dhj * (1 - z) * (1 - nn * nn);
        dq[b * h + j] = dn_pre;
        dgi[b * 3 * h + 2 * h + j] = dn_pre;
        dgh[b * 3 * h + 2 * h + j] = 0.f;
        const float dz_pre = dhj * (h_prev[b * h + j] - nn) * z * (1 - z);
        dgi[b * 3 * h + h + j] = dgh[b * 3 * h + h + j] = dz_pre;
        dh_prev[b * h + j] += dhj * z;
      }
    }
    const float* rh = reset_h_.f32() + t * n * h;
    kernels::gemm(false, false, n, h, h, 1.f, dq, h, weight_hh_.f32() + 2 * h * h, h, 0.f,
                  dreset_h_.f32(), h);
    kernels::gemm(true, false, h, h, n, 1.f, dq, h, rh, h, 1.f, grad_weight_hh_.f32() + 2 * h * h,
                  h);
    for (int64_t b = 0; b < n; ++b) {
      const float* a = act + b * 3 * h;
      for (int64_t j = 0; j < h; ++j) {
        const float rr = a[j];
        const float drh = dreset_h_.f32()[b * h + j];
        const float dr_pre = drh * h_prev[b * h + j] * rr * (1 - rr);
        dgi[b * 3 * h + j] = dgh[b * 3 * h + j] = dr_pre;
        dh_prev[b * h + j] += drh * rr;
        if (options_.bias) grad_bias_hh_.f32()[2 * h + j] += dq[b * h + j];
      }
    }
    return;
  }
  for (int64_t b = 0; b < n; ++b) {
    const float* a = act + b * 3 * h;
    const float* r = gh + b * 3 * h;
    float* di = dgi + b * 3 * h;
    float* dr = dgh + b * 3 * h;
    for (int64_t j = 0; j < h; ++j) {
      const float rr = a[j], z = a[h + j], nn = a[2 * h + j];
      const float dhj = dh[b * h + j];
      const float dn_pre = dhj * (1 - z) * (1 - nn * nn);
      const float dz_pre = dhj * (h_prev[b * h + j] - nn) * z * (1 - z);
      const float dr_pre = dn_pre * r[2 * h + j] * rr * (1 - rr);
      di[j] = dr[j] = dr_pre;
      di[h + j] = dr[h + j] = dz_pre;
      di[2 * h + j] = dn_pre;
      dr[2 * h + j] = dn_pre * rr;
      dh_prev[b * h + j] += dhj * z;
    }
  }
}

const RegisterLayers<LSTM, GRU> kRegistered;

}  // namespace bdl::nn
