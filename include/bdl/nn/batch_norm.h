#pragma once

#include <memory>

#include "bdl/nn/layer.h"

namespace bdl::kernels {
class BatchNormKernel;
}

namespace bdl::nn {

struct BatchNormOptions {
  int64_t num_features = 0;
  float eps = 1e-5f;
  // Weight of the newest batch in the running statistics (PyTorch's convention).
  float momentum = 0.1f;
  bool affine = true;
  bool track_running_stats = true;
  static void fields(auto& o, auto& field) {
    field("num_features", o.num_features);
    field("eps", o.eps);
    field("momentum", o.momentum);
    field("affine", o.affine, Presence::may_be_absent);
    field("track_running_stats", o.track_running_stats, Presence::may_be_absent);
  }
};

// Batch normalisation per channel (dimension 1), as torch.nn.BatchNorm1d/2d:
// training normalises with the batch's mean and biased variance and updates the
// running mean and unbiased variance; evaluation uses the running statistics.
// Inputs are (N, C), (N, C, L) or (N, C, H, W).
class BatchNorm : public Layer<BatchNorm> {
 public:
  static constexpr std::string_view kType = "BatchNorm";
  explicit BatchNorm(BatchNormOptions options);
  explicit BatchNorm(int64_t num_features)
      : BatchNorm(BatchNormOptions{.num_features = num_features}) {}
  ~BatchNorm() override;

  const Tensor& forward(const Tensor& input) override;
  const Tensor& backward(const Tensor& input, const Tensor& grad_output) override;
  bool output_may_be_overwritten() const override { return true; }
  std::string describe() const override;
  Shape output_shape(const Shape& input) const override;
  void own_parameters(std::vector<Parameter>& out) override;
  void own_buffers(std::vector<Buffer>& out) override;

  // What this BatchNorm computes when it uses its running statistics, as
  // y = scale * x + shift per channel (for folding into the convolution before
  // it). False, with nothing written, when it normalises by batch statistics.
  bool affine_form(std::vector<float>& scale, std::vector<float>& shift) const;

  const BatchNormOptions& options() const { return options_; }
  Tensor& weight() { return weight_; }
  Tensor& bias() { return bias_; }
  Tensor& running_mean() { return running_mean_; }
  Tensor& running_var() { return running_var_; }

 private:
  // The input as the 4-d tensor the kernel normalises.
  Tensor as_4d(const Tensor& input);
  bool uses_batch_stats() const { return training_ || !options_.track_running_stats; }

  BatchNormOptions options_;
  Tensor weight_, bias_, grad_weight_, grad_bias_;
  Tensor running_mean_, running_var_;
  Tensor batch_mean_, batch_var_;  // of the last training forward
  Tensor dense_input_, dense_grad_;
  std::unique_ptr<kernels::BatchNormKernel> kernel_;
};

}  // namespace bdl::nn
