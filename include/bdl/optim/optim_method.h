#pragma once

#include <functional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "bdl/nn/flat_parameters.h"

namespace bdl::optim {

// Where the slice given to step() lies among the model's parameters, for methods
// that work per parameter tensor (LARS's layer-wise trust ratio). A parameter
// may be cut by a slice boundary: sum_over_workers adds up per-parameter partial
// results over the workers holding the other slices (null when this worker
// holds the whole buffer).
struct SliceContext {
  const std::vector<nn::ParameterSlot>* slots = nullptr;
  int64_t offset = 0;
  std::function<void(std::span<double>)> sum_over_workers;
};

// A method's state, for checkpoints: vectors of one value per element of the
// slice it updates (empty before its first step) and scalars such as step counts.
struct MethodState {
  std::vector<std::pair<std::string, std::vector<float>>> vectors;
  std::vector<std::pair<std::string, double>> scalars;

  // The entry of that name; throws bdl::Error naming the method when missing.
  std::vector<float>& vector(const std::string& name, const std::string& method);
  double scalar(const std::string& name, const std::string& method) const;
};

// An optimisation method updates a slice of the flat weight buffer from the same
// slice of the flat gradient buffer. Its state (momentum, moments) is sized to
// that slice only, which is what makes sharded optimizer state fall out when each
// worker owns one slice.
class OptimMethod {
 public:
  virtual ~OptimMethod() = default;
  virtual void step(std::span<float> weights, std::span<const float> grads) = 0;
  virtual std::string describe() const = 0;
  virtual double learning_rate() const = 0;
  virtual void set_learning_rate(double lr) = 0;
  // Called by the parameter sync before each step; most methods ignore it.
  virtual void set_context(const SliceContext& /*context*/) {}
  // Checkpoints: the state as it stands, and restoring it (sizes are checked on
  // the next step against the slice).
  virtual MethodState state() const { return {}; }
  // Overrides take the state by value to move from it.
  virtual void set_state(MethodState /*state*/) {}  // NOLINT(performance-unnecessary-value-param)
};

}  // namespace bdl::optim
