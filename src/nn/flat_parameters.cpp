#include "bdl/nn/flat_parameters.h"

namespace bdl::nn {

FlatParameters compact(Module& model) {
  FlatParameters flat;
  auto params = model.parameters();
  int64_t total = 0;
  for (const auto& p : params) {
    flat.slots.push_back({p.name, p.value->shape(), total, p.value->numel()});
    total += p.value->numel();
  }
  flat.weights = Tensor({total});
  flat.grads = Tensor({total});
  for (size_t i = 0; i < params.size(); ++i) {
    const auto& slot = flat.slots[i];
    Tensor weight = flat.weights.narrow(0, slot.offset, slot.numel).view(slot.shape);
    Tensor grad = flat.grads.narrow(0, slot.offset, slot.numel).view(slot.shape);
    weight.copy_from(*params[i].value);
    grad.copy_from(*params[i].grad);
    *params[i].value = weight;
    *params[i].grad = grad;
  }
  return flat;
}

}  // namespace bdl::nn
