#include "bdl/models/zoo.h"

namespace bdl::models {

std::vector<std::string> names() { return {"lenet5", "mlp"}; }

std::unique_ptr<nn::Module> make(const std::string& name, int64_t classes) {
  BDL_CHECK(classes > 0, "model ", name, ": number of classes must be positive");
  if (name == "lenet5") return lenet5(classes);
  if (name == "mlp") return mlp(classes);
  std::string known;
  for (const auto& n : names()) known += (known.empty() ? "" : ", ") + n;
  fail("unknown model '", name, "' (known: ", known, ")");
}

}  // namespace bdl::models
