// Errors of values: mean absolute error, mean squared error and its root, over
// every element of every sample.
#include <cmath>

#include "optim/metrics/kinds.h"

namespace bdl::optim::metrics {
namespace {

class Error : public Metric {
 public:
  explicit Error(ErrorKind kind) : kind_(kind) {}
  std::string name() const override {
    return kind_ == ErrorKind::mae ? "mae" : kind_ == ErrorKind::mse ? "mse" : "rmse";
  }
  void start(const MetricInput& input) override {
    BDL_CHECK(!input.class_targets, name(),
              ": needs targets that are values; the targets are class indices (train with a "
              "loss on values, or one-hot targets)");
    BDL_CHECK(shape_numel(input.target_shape) == shape_numel(input.output_shape), name(),
              ": targets of shape ", shape_str(input.target_shape),
              " per sample do not match outputs of shape ", shape_str(input.output_shape));
    counts_.assign(2, 0.0);
  }
  void add(const Tensor& output, const Tensor& target) override {
    const Tensor out = output.contiguous();
    const Tensor t = target.contiguous();
    double sum = 0;
    for (int64_t i = 0; i < out.numel(); ++i) {
      const double d = double{out.f32()[i]} - t.f32()[i];
      sum += kind_ == ErrorKind::mae ? std::abs(d) : d * d;
    }
    counts_[0] += sum;
    counts_[1] += static_cast<double>(out.numel());
  }
  std::vector<double>* counts() override { return &counts_; }
  double value() const override {
    if (counts_[1] == 0) return 0.0;
    const double mean = counts_[0] / counts_[1];
    return kind_ == ErrorKind::rmse ? std::sqrt(mean) : mean;
  }

 private:
  ErrorKind kind_;
  std::vector<double> counts_;  // sum of |error| or error^2, elements
};

}  // namespace

std::unique_ptr<Metric> error(ErrorKind kind) { return std::make_unique<Error>(kind); }

}  // namespace bdl::optim::metrics
