// The registry walk: every registered layer type round-trips through the model
// file (same configuration, weights and outputs) and either exports to ONNX and
// imports back to the same outputs or is refused with an error naming it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <set>

#include "bdl/core/random.h"
#include "bdl/io/model_file.h"
#include "bdl/nn/attributes.h"
#include "bdl/onnx/export.h"
#include "bdl/onnx/import.h"
#include "support/layer_examples.h"
#include "support/tensor_matchers.h"

namespace bdl::testing {
namespace {

namespace fs = std::filesystem;

// Weights away from zero (a zero-initialised constant would make pow or div
// degenerate) and non-trivial buffers (BatchNorm's statistics).
std::unique_ptr<nn::Module> build(const LayerExample& example) {
  auto m = example.make();
  Rng rng(11);
  for (auto& p : m->parameters()) rng.fill_uniform(p.value->span_f32(), 0.5f, 1.5f);
  for (auto& b : m->buffers()) rng.fill_uniform(b.value->span_f32(), 0.5f, 1.5f);
  m->eval();
  return m;
}

Tensor input_for(const LayerExample& example) {
  Tensor x(example.input);
  Rng rng(5);
  if (example.vocabulary > 0) {
    for (float& v : x.span_f32()) v = static_cast<float>(rng.below(example.vocabulary));
  } else {
    rng.fill_uniform(x.span_f32(), -1.f, 1.f);
  }
  return x;
}

// Every type in a module tree.
void collect_types(nn::Module& m, std::set<std::string>& out) {
  out.insert(m.type());
  for (nn::Module* c : m.children()) collect_types(*c, out);
}

void expect_same_tree(nn::Module& a, nn::Module& b) {
  EXPECT_EQ(a.type(), b.type());
  EXPECT_EQ(a.name(), b.name());
  EXPECT_EQ(a.describe(), b.describe());
  nn::Attributes aa, ab;
  a.attributes(aa);
  b.attributes(ab);
  EXPECT_EQ(aa.entries(), ab.entries()) << a.type();
  auto ca = a.children(), cb = b.children();
  ASSERT_EQ(ca.size(), cb.size()) << a.type();
  for (size_t i = 0; i < ca.size(); ++i) expect_same_tree(*ca[i], *cb[i]);
}

void expect_same_weights(nn::Module& a, nn::Module& b) {
  auto pa = a.parameters(), pb = b.parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (size_t i = 0; i < pa.size(); ++i) {
    EXPECT_EQ(pa[i].name, pb[i].name);
    EXPECT_EQ(pa[i].value->to_vector(), pb[i].value->to_vector()) << pa[i].name;
  }
  auto ba = a.buffers(), bb = b.buffers();
  ASSERT_EQ(ba.size(), bb.size());
  for (size_t i = 0; i < ba.size(); ++i) {
    EXPECT_EQ(ba[i].value->to_vector(), bb[i].value->to_vector()) << ba[i].name;
  }
}

TEST(LayerRegistry, EveryRegisteredTypeHasAnExample) {
  std::set<std::string> covered;
  for (const auto& example : layer_examples()) collect_types(*example.make(), covered);
  for (const auto& type : nn::module_types()) {
    EXPECT_TRUE(covered.count(type))
        << type << " is registered but has no example in tests/support/layer_examples.h";
  }
}

TEST(LayerRegistry, UnknownTypeIsNamed) {
  nn::Attributes a("layer3");
  try {
    nn::create_module("Frobnicate", a, {});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "layer3: unknown module type 'Frobnicate'");
  }
}

class LayerWalk : public ::testing::TestWithParam<LayerExample> {};

TEST_P(LayerWalk, RoundTripsThroughTheModelFile) {
  const LayerExample& example = GetParam();
  auto model = build(example);
  const Tensor x = input_for(example);
  const auto want = model->forward(x).to_vector();
  const fs::path path =
      fs::temp_directory_path() / ("bdl_walk_" + std::to_string(::getpid()) + ".bdl");
  io::save_model(*model, path.string());
  auto loaded = io::load_model(path.string());
  fs::remove(path);
  expect_same_tree(*model, *loaded.model);
  expect_same_weights(*model, *loaded.model);
  loaded.model->eval();
  EXPECT_EQ(loaded.model->forward(x).to_vector(), want);
}

TEST_P(LayerWalk, ExportsToOnnxAndImportsBackOrIsRefusedByName) {
  const LayerExample& example = GetParam();
  auto model = build(example);
  const Tensor x = input_for(example);
  onnx::ExportOptions options;
  options.input_shape.assign(example.input.begin() + 1, example.input.end());
  std::string bytes;
  try {
    bytes = onnx::export_model_bytes(*model, options);
  } catch (const Error& e) {
    ASSERT_FALSE(example.refused_because.empty()) << "export failed: " << e.what();
    const std::string what = e.what();
    EXPECT_NE(what.find(model->type()), std::string::npos) << what;
    EXPECT_NE(what.find(example.refused_because), std::string::npos) << what;
    return;
  }
  ASSERT_TRUE(example.refused_because.empty()) << "exported, expected a refusal";
  auto imported =
      onnx::import_model(std::as_bytes(std::span(bytes.data(), bytes.size())), "walk.onnx");
  const Tensor want = model->forward(x).contiguous().clone();
  EXPECT_TRUE(all_close(imported.graph->forward(x), want, 1e-5, 1e-6));
}

INSTANTIATE_TEST_SUITE_P(Layers, LayerWalk, ::testing::ValuesIn(layer_examples()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace bdl::testing
