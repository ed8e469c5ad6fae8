#include "bdl/nn/losses/by_name.h"

#include "bdl/nn/losses/bce_with_logits.h"
#include "bdl/nn/losses/class_nll.h"
#include "bdl/nn/losses/cross_entropy.h"
#include "bdl/nn/losses/elementwise.h"
#include "bdl/nn/losses/kl_div.h"

namespace bdl::nn {

std::unique_ptr<Criterion> make_criterion(const std::string& name) {
  if (name == "cross_entropy") return std::make_unique<CrossEntropy>();
  if (name == "nll") return std::make_unique<ClassNLL>();
  if (name == "mse") return std::make_unique<MSE>();
  if (name == "l1") return std::make_unique<L1>();
  if (name == "smooth_l1") return std::make_unique<SmoothL1>();
  if (name == "bce") return std::make_unique<BCE>();
  if (name == "bce_with_logits") return std::make_unique<BCEWithLogits>();
  if (name == "kl_div") return std::make_unique<KLDiv>();
  fail("unknown loss '", name, "' (known: ", criterion_names(), ")");
}

std::string criterion_names() {
  return "cross_entropy, nll, mse, l1, smooth_l1, bce, bce_with_logits, kl_div";
}

}  // namespace bdl::nn
