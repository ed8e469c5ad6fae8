#pragma once

// The shared layer test (Caffe's per-layer test, ggml's test case): a case names
// a PyTorch fixture, builds the bdl module, and states its tolerances. Every case
// is checked against PyTorch's forward and backward, by finite differences, and
// for gradient accumulation.

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

#include "support/fixtures.h"
#include "support/gradient_check.h"
#include "support/tensor_matchers.h"

namespace bdl::testing {

struct LayerCase {
  std::string fixture;  // case name in tests/fixtures/layers.json
  std::function<std::unique_ptr<nn::Module>()> make;
  // Against PyTorch: both run float32 with different summation orders.
  double rtol = 1e-4, atol = 1e-5;
  GradientCheckOptions gradient_check{};
  // Whether samples are computed independently (false for BatchNorm in training,
  // which normalises over the batch): then the first sample alone must give the
  // first sample's output.
  bool batch_independent = true;
};

// gtest prints the case by its fixture name, not as bytes.
inline void PrintTo(const LayerCase& c, std::ostream* os) { *os << c.fixture; }

inline std::string case_name(const ::testing::TestParamInfo<LayerCase>& info) {
  return info.param.fixture;
}

class LayerTest : public ::testing::TestWithParam<LayerCase> {
 protected:
  static const nlohmann::json& fixtures() {
    static const nlohmann::json all = load_fixture("layers.json");
    return all;
  }
  const nlohmann::json& fixture() const { return find_case(fixtures(), GetParam().fixture); }

  bool training() const { return fixture().value("training", true); }

  // The module with PyTorch's parameter and buffer values, in PyTorch's mode.
  std::unique_ptr<nn::Module> make_loaded() const {
    auto m = GetParam().make();
    m->train(training());
    if (fixture().contains("buffers")) {
      const auto& buffers = fixture()["buffers"];
      auto ours = m->buffers();
      EXPECT_EQ(ours.size(), buffers.size());
      for (auto& b : ours) {
        EXPECT_TRUE(buffers.contains(b.name)) << "fixture lacks buffer " << b.name;
        if (buffers.contains(b.name)) b.value->copy_from(tensor_of(buffers[b.name]));
      }
    }
    const auto& params = fixture()["params"];
    auto ours = m->parameters();
    EXPECT_EQ(ours.size(), params.size());
    for (auto& p : ours) {
      EXPECT_TRUE(params.contains(p.name)) << "fixture lacks parameter " << p.name;
      if (params.contains(p.name)) p.value->copy_from(tensor_of(params[p.name]));
    }
    return m;
  }
};

}  // namespace bdl::testing
