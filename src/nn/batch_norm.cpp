#include "bdl/nn/batch_norm.h"

#include <cmath>

#include "bdl/kernels/normalization.h"
#include "nn/dense.h"

namespace bdl::nn {

BatchNorm::BatchNorm(BatchNormOptions options)
    : options_(options), kernel_(std::make_unique<kernels::BatchNormKernel>(options.eps)) {
  BDL_CHECK(options.num_features > 0, "BatchNorm: num_features must be positive, got ",
            options.num_features);
  BDL_CHECK(options.eps > 0 && std::isfinite(options.eps), "BatchNorm: eps must be positive, got ",
            options.eps);
  BDL_CHECK(options.momentum >= 0 && options.momentum <= 1, "BatchNorm: momentum ",
            options.momentum, " is not in [0, 1]");
  const Shape c{options.num_features};
  if (options.affine) {
    weight_ = Tensor::full(c, 1.f);
    bias_ = Tensor(c);
    grad_weight_ = Tensor(c);
    grad_bias_ = Tensor(c);
  }
  if (options.track_running_stats) {
    running_mean_ = Tensor(c);
    running_var_ = Tensor::full(c, 1.f);
  }
  batch_mean_ = Tensor(c);
  batch_var_ = Tensor(c);
}

BatchNorm::~BatchNorm() = default;

std::string BatchNorm::describe() const {
  std::string s = detail::concat("BatchNorm(", options_.num_features);
  if (options_.eps != 1e-5f) s += detail::concat(", eps ", options_.eps);
  if (options_.momentum != 0.1f) s += detail::concat(", momentum ", options_.momentum);
  if (!options_.affine) s += ", not affine";
  if (!options_.track_running_stats) s += ", no running stats";
  return s + ")";
}

Shape BatchNorm::output_shape(const Shape& input) const {
  BDL_CHECK(input.size() >= 2 && input.size() <= 4, label(),
            ": expected input (N, C), (N, C, L) or (N, C, H, W), got ", shape_str(input));
  BDL_CHECK(input[1] == options_.num_features, label(), ": input of shape ", shape_str(input),
            " has ", input[1], " channels, expected ", options_.num_features);
  return input;
}

void BatchNorm::own_parameters(std::vector<Parameter>& out) {
  if (!options_.affine) return;
  out.push_back({"weight", &weight_, &grad_weight_});
  out.push_back({"bias", &bias_, &grad_bias_});
}

void BatchNorm::own_buffers(std::vector<Buffer>& out) {
  if (!options_.track_running_stats) return;
  out.push_back({"running_mean", &running_mean_});
  out.push_back({"running_var", &running_var_});
}

Tensor BatchNorm::as_4d(const Tensor& input) {
  output_shape(input.shape());
  if (input.dim() == 4) return input;
  const Tensor& x = dense(input, dense_input_);
  return x.view({x.size(0), x.size(1), x.dim() == 3 ? x.size(2) : 1, 1});
}

const Tensor& BatchNorm::forward(const Tensor& input) {
  const Tensor x = as_4d(input);
  const float* scale = options_.affine ? weight_.f32() : nullptr;
  const float* shift = options_.affine ? bias_.f32() : nullptr;
  if (uses_batch_stats()) {
    const int64_t per_channel = x.size(0) * x.size(2) * x.size(3);
    BDL_CHECK(per_channel > 1, label(),
              ": expected more than 1 value per channel when training, got input of shape ",
              input.shape_str());
    kernel_->forward_training(x, scale, shift, batch_mean_.f32(), batch_var_.f32(), output_);
    if (training_ && options_.track_running_stats) {
      const float m = options_.momentum;
      const float unbias = static_cast<float>(per_channel) / static_cast<float>(per_channel - 1);
      float* rm = running_mean_.f32();
      float* rv = running_var_.f32();
      const float* bm = batch_mean_.f32();
      const float* bv = batch_var_.f32();
      for (int64_t c = 0; c < options_.num_features; ++c) {
        rm[c] = (1 - m) * rm[c] + m * bm[c];
        rv[c] = (1 - m) * rv[c] + m * bv[c] * unbias;
      }
    }
  } else {
    kernel_->forward_inference(x, scale, shift, running_mean_.f32(), running_var_.f32(), output_);
  }
  if (input.dim() != 4) output_ = output_.view(input.shape());
  return output_;
}

bool BatchNorm::affine_form(std::vector<float>& scale, std::vector<float>& shift) const {
  if (uses_batch_stats()) return false;
  const int64_t channels = options_.num_features;
  scale.resize(static_cast<size_t>(channels));
  shift.resize(static_cast<size_t>(channels));
  const float* mean = running_mean_.f32();
  const float* var = running_var_.f32();
  for (int64_t c = 0; c < channels; ++c) {
    // As the kernel computes it: gamma * (x - mean) / sqrt(var + eps) + beta.
    const float inv = 1.f / std::sqrt(var[c] + options_.eps);
    const float gamma = options_.affine ? weight_.f32()[c] : 1.f;
    const float beta = options_.affine ? bias_.f32()[c] : 0.f;
    scale[static_cast<size_t>(c)] = gamma * inv;
    shift[static_cast<size_t>(c)] = beta - mean[c] * gamma * inv;
  }
  return true;
}

const Tensor& BatchNorm::backward(const Tensor& input, const Tensor& grad_output) {
  check_grad_output(grad_output, input.shape());
  const Tensor x = as_4d(input);
  const Tensor dy =
      input.dim() == 4 ? grad_output : dense(grad_output, dense_grad_).view(x.shape());
  const bool batch = uses_batch_stats();
  const float* mean = batch ? batch_mean_.f32() : running_mean_.f32();
  const float* var = batch ? batch_var_.f32() : running_var_.f32();
  if (!options_.affine) {
    kernel_->backward(x, dy, nullptr, nullptr, mean, var, grad_input_, nullptr, nullptr);
  } else {
    accumulate_grads(grad_weight_, grad_bias_, [&](float* grad_weight, float* grad_bias) {
      kernel_->backward(x, dy, weight_.f32(), bias_.f32(), mean, var, grad_input_, grad_weight,
                        grad_bias);
    });
  }
  if (input.dim() != 4) grad_input_ = grad_input_.view(input.shape());
  return grad_input_;
}

const RegisterLayers<BatchNorm> kRegistered;

}  // namespace bdl::nn
