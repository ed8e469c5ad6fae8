#pragma once

// The scikit-learn reference cases of tools/fixtures/gen_metrics.py as bdl
// datasets: the features are the model outputs to score, so an Identity model
// turns them into exactly those outputs.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bdl/data/dataset.h"
#include "support/fixtures.h"

namespace bdl::testing {

struct MetricCase {
  std::string name;
  std::string loss;
  data::Dataset dataset;
  std::vector<std::pair<std::string, double>> expected;
};

inline std::vector<MetricCase> metric_cases() {
  const nlohmann::json fixture = load_fixture("metrics.json");
  std::vector<MetricCase> out;
  for (const auto& c : fixture["cases"]) {
    const auto rows = c["outputs"].get<std::vector<std::vector<float>>>();
    const auto n = static_cast<int64_t>(rows.size());
    const auto k = static_cast<int64_t>(rows[0].size());
    Tensor outputs({n, k});
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t j = 0; j < k; ++j) outputs.f32()[i * k + j] = rows[i][j];
    }
    Tensor targets;
    if (c["class_targets"].get<bool>()) {
      targets = Tensor::from_vector(c["targets"].get<std::vector<int64_t>>(), {n});
    } else {
      const auto t = c["targets"].get<std::vector<std::vector<float>>>();
      const auto m = static_cast<int64_t>(t[0].size());
      targets = Tensor({n, m});
      for (int64_t i = 0; i < n; ++i) {
        for (int64_t j = 0; j < m; ++j) targets.f32()[i * m + j] = t[i][j];
      }
    }
    MetricCase mc{c["name"], c["loss"], data::Dataset(outputs, targets, c["name"]), {}};
    for (const auto& [name, value] : c["expected"].items()) {
      mc.expected.emplace_back(name, value.get<double>());
    }
    out.push_back(std::move(mc));
  }
  return out;
}

}  // namespace bdl::testing
