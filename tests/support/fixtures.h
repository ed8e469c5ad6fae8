#pragma once

// Reads the PyTorch fixtures that tools/fixtures/gen_nn.py writes.

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "bdl/core/tensor.h"

namespace bdl::testing {

inline nlohmann::json load_fixture(const std::string& file) {
  const std::string path = std::string(BDL_FIXTURE_DIR) + "/" + file;
  std::ifstream in(path);
  if (!in) throw Error(path + ": cannot open fixture (run tools/fixtures/gen_nn.py)");
  return nlohmann::json::parse(in);
}

inline const nlohmann::json& find_case(const nlohmann::json& cases, const std::string& name) {
  for (const auto& c : cases) {
    if (c["name"] == name) return c;
  }
  throw Error("no fixture case " + name);
}

inline Tensor tensor_of(const nlohmann::json& j) {
  Shape shape = j["shape"].get<Shape>();
  std::vector<float> data = j["data"].get<std::vector<float>>();
  return Tensor::from_vector(data, shape);
}

inline Tensor index_tensor_of(const nlohmann::json& j) {
  Shape shape = j["shape"].get<Shape>();
  std::vector<int64_t> data = j["data"].get<std::vector<int64_t>>();
  return Tensor::from_vector(data, shape);
}

}  // namespace bdl::testing
