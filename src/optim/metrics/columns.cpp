#include "optim/metrics/columns.h"

#include <algorithm>
#include <cmath>

namespace bdl::optim::metrics {

void probabilities(const float* x, int64_t n, nn::OutputKind kind, bool classes, double* out) {
  switch (kind) {
    case nn::OutputKind::logits:
      if (classes) {
        const double top = *std::max_element(x, x + n);
        double z = 0;
        for (int64_t j = 0; j < n; ++j) z += out[j] = std::exp(x[j] - top);
        for (int64_t j = 0; j < n; ++j) out[j] /= z;
      } else {
        for (int64_t j = 0; j < n; ++j) out[j] = 1.0 / (1.0 + std::exp(-double{x[j]}));
      }
      return;
    case nn::OutputKind::log_probabilities:
      for (int64_t j = 0; j < n; ++j) out[j] = std::exp(double{x[j]});
      return;
    case nn::OutputKind::probabilities:
    case nn::OutputKind::values:
      for (int64_t j = 0; j < n; ++j) out[j] = x[j];
      return;
  }
}

void Columns::start(const MetricInput& input, const std::string& metric) {
  input_ = input;
  const int64_t outputs = shape_numel(input.output_shape);
  if (input.class_targets) {
    BDL_CHECK(input.output_shape.size() == 1 && outputs >= 2, metric,
              ": class targets need outputs (batch, classes) of at least 2 classes, the model "
              "gives ",
              shape_str(input.output_shape), " per sample");
    two_classes_ = outputs == 2;
    multiclass_ = !two_classes_;
    columns_ = two_classes_ ? 1 : outputs;
  } else {
    BDL_CHECK(input.target_shape == input.output_shape ||
                  (outputs == 1 && shape_numel(input.target_shape) == 1),
              metric, ": targets of shape ", shape_str(input.target_shape),
              " per sample do not match outputs of shape ", shape_str(input.output_shape));
    columns_ = outputs;
  }
}

void Columns::fill(const Tensor& output, const Tensor& target, std::vector<double>& scores,
                   std::vector<uint8_t>& labels, std::vector<int64_t>& predicted) const {
  const Tensor out = output.contiguous();
  const Tensor t = target.contiguous();
  const int64_t n = out.size(0);
  const int64_t per_sample = out.numel() / std::max<int64_t>(n, 1);
  std::vector<double> p(static_cast<size_t>(per_sample));
  scores.resize(static_cast<size_t>(n * columns_));
  labels.resize(scores.size());
  predicted.resize(multiclass_ ? static_cast<size_t>(n) : 0);
  for (int64_t i = 0; i < n; ++i) {
    probabilities(out.f32() + i * per_sample, per_sample, input_.outputs, input_.class_targets,
                  p.data());
    double* s = scores.data() + i * columns_;
    uint8_t* l = labels.data() + i * columns_;
    if (input_.class_targets) {
      const int64_t y = t.data<int64_t>()[i];
      BDL_CHECK(y >= 0 && y < per_sample, "metrics: target ", y, " is not a class of ", per_sample);
      if (two_classes_) {
        s[0] = p[1];
        l[0] = y == 1;
      } else {
        for (int64_t c = 0; c < columns_; ++c) {
          s[c] = p[static_cast<size_t>(c)];
          l[c] = y == c;
        }
        predicted[static_cast<size_t>(i)] = std::max_element(p.begin(), p.end()) - p.begin();
      }
    } else {
      for (int64_t c = 0; c < columns_; ++c) {
        s[c] = p[static_cast<size_t>(c)];
        l[c] = t.f32()[i * columns_ + c] > 0.5f;
      }
    }
  }
}

}  // namespace bdl::optim::metrics
