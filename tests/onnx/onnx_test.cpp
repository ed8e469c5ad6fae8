// ONNX import and export: errors on bad models, initializers as parameters,
// export of the zoo and re-import to the same outputs, onnx.checker on exports.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "bdl/core/random.h"
#include "bdl/models/zoo.h"
#include "bdl/nn/activations.h"
#include "bdl/nn/batch_norm.h"
#include "bdl/nn/conv_transpose2d.h"
#include "bdl/nn/elementwise.h"
#include "bdl/nn/embedding.h"
#include "bdl/nn/gather.h"
#include "bdl/nn/graph.h"
#include "bdl/nn/linear.h"
#include "bdl/nn/matmul.h"
#include "bdl/nn/pad.h"
#include "bdl/nn/recurrent.h"
#include "bdl/nn/reduce.h"
#include "bdl/nn/resize.h"
#include "bdl/nn/sequential.h"
#include "bdl/nn/slice.h"
#include "bdl/nn/time_distributed.h"
#include "bdl/nn/transpose.h"
#include "bdl/nn/view.h"
#include "bdl/onnx/export.h"
#include "bdl/onnx/import.h"
#include "support/errors.h"
#include "support/tensor_matchers.h"

namespace bdl::testing {
namespace {

namespace fs = std::filesystem;
const fs::path kTestData = "/usr/share/libonnx-testdata/data";

std::string read_bytes(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), {}};
}

onnx::ImportedModel import_bytes(const std::string& bytes, const std::string& name = "m.onnx") {
  return onnx::import_model(std::as_bytes(std::span(bytes.data(), bytes.size())), name);
}

// A model with one float input x of the given shape and the given nodes.
::onnx::ModelProto model_with(const Shape& x, int64_t opset = 13) {
  ::onnx::ModelProto m;
  m.set_ir_version(7);
  auto* o = m.add_opset_import();
  o->set_version(opset);
  auto* g = m.mutable_graph();
  auto* in = g->add_input();
  in->set_name("x");
  auto* t = in->mutable_type()->mutable_tensor_type();
  t->set_elem_type(::onnx::TensorProto::FLOAT);
  for (int64_t d : x) t->mutable_shape()->add_dim()->set_dim_value(d);
  return m;
}
void add_node(::onnx::ModelProto& m, const std::string& op, std::vector<std::string> in,
              const std::string& out) {
  auto* n = m.mutable_graph()->add_node();
  n->set_op_type(op);
  n->set_name(out + "_node");
  for (auto& i : in) n->add_input(i);
  n->add_output(out);
}
void add_output(::onnx::ModelProto& m, const std::string& name) {
  m.mutable_graph()->add_output()->set_name(name);
}
void add_weight(::onnx::ModelProto& m, const std::string& name, const Shape& shape, size_t values) {
  auto* w = m.mutable_graph()->add_initializer();
  w->set_name(name);
  w->set_data_type(::onnx::TensorProto::FLOAT);
  for (int64_t d : shape) w->add_dims(d);
  for (size_t i = 0; i < values; ++i) w->add_float_data(0.5f);
}
std::string bytes_of(const ::onnx::ModelProto& m) {
  std::string s;
  m.SerializeToString(&s);
  return s;
}

TEST(OnnxImport, NamesEveryMissingOperatorAtOnce) {
  auto m = model_with({1, 4});
  add_node(m, "Frobnicate", {"x"}, "a");
  add_node(m, "Relu", {"a"}, "b");
  add_node(m, "Twiddle", {"b"}, "c");
  add_node(m, "Frobnicate", {"c"}, "d");
  add_output(m, "d");
  const std::string e = error_of([&] { import_bytes(bytes_of(m)); });
  EXPECT_NE(e.find("m.onnx: unsupported operators: Frobnicate (x2), Twiddle"), std::string::npos)
      << e;
  EXPECT_THROW(import_bytes(bytes_of(m)), onnx::Unsupported);
}

TEST(OnnxImport, TruncatedFileIsAClearError) {
  const std::string full = read_bytes(kTestData / "pytorch-converted/test_Conv2d/model.onnx");
  ASSERT_GT(full.size(), 100u);
  const std::string e =
      error_of([&] { import_bytes(full.substr(0, full.size() / 2), "cut.onnx"); });
  EXPECT_NE(e.find("cut.onnx"), std::string::npos) << e;
  EXPECT_NE(e.find("not an ONNX model"), std::string::npos) << e;
}

TEST(OnnxImport, OpsetBeyondTwentyOneIsUnsupported) {
  auto m = model_with({1, 4}, 22);
  add_node(m, "Relu", {"x"}, "y");
  add_output(m, "y");
  const std::string e = error_of([&] { import_bytes(bytes_of(m)); });
  EXPECT_NE(e.find("opset 22; bdl imports opsets 1 to 21"), std::string::npos) << e;
  EXPECT_THROW(import_bytes(bytes_of(m)), onnx::Unsupported);
}

// MatMul by a (4, 3) weight kept in a file beside the model, as exporters write
// models over 2 GiB; `location`, `offset` and `length` as the model records them.
void write_external_model(const fs::path& dir, const std::string& location, uint64_t offset,
                          uint64_t length) {
  auto m = model_with({2, 4});
  auto* w = m.mutable_graph()->add_initializer();
  w->set_name("w");
  w->set_data_type(::onnx::TensorProto::FLOAT);
  w->add_dims(4);
  w->add_dims(3);
  w->set_data_location(::onnx::TensorProto::EXTERNAL);
  auto entry = [&](const std::string& k, const std::string& v) {
    auto* e = w->add_external_data();
    e->set_key(k);
    e->set_value(v);
  };
  entry("location", location);
  entry("offset", std::to_string(offset));
  entry("length", std::to_string(length));
  add_node(m, "MatMul", {"x", "w"}, "y");
  add_output(m, "y");
  std::ofstream(dir / "model.onnx", std::ios::binary) << bytes_of(m);
}

TEST(OnnxImport, ReadsWeightsFromExternalDataFiles) {
  const fs::path dir = fs::temp_directory_path() / "bdl_onnx_external";
  fs::create_directories(dir);
  std::vector<float> values(16, 0.f);  // 4 bytes of padding, then the 12 weights
  for (int i = 0; i < 12; ++i) values[static_cast<size_t>(i) + 1] = 0.5f * static_cast<float>(i);
  std::ofstream(dir / "weights.bin", std::ios::binary)
      .write(reinterpret_cast<const char*>(values.data()), 64);
  write_external_model(dir, "weights.bin", 4, 48);
  auto imported = onnx::import_model((dir / "model.onnx").string());
  const Tensor x = Tensor::full({2, 4}, 1.f);
  const auto y = imported.graph->forward(x).to_vector();
  // Column j sums rows 0..3 of w: 0.5 * (j + (3 + j) + (6 + j) + (9 + j)).
  EXPECT_FLOAT_EQ(y[0], 0.5f * 18);
  EXPECT_FLOAT_EQ(y[2], 0.5f * 26);
  const std::string model = (dir / "model.onnx").string();
  write_external_model(dir, "../weights.bin", 0, 48);
  EXPECT_NE(error_of([&] { onnx::import_model(model); }).find("a relative path without '..'"),
            std::string::npos);
  write_external_model(dir, "weights.bin", 0, 40);
  EXPECT_NE(error_of([&] {
              onnx::import_model(model);
            }).find("external data of 40 bytes for 12 float32 elements"),
            std::string::npos);
  write_external_model(dir, "weights.bin", 32, 48);
  EXPECT_NE(error_of([&] { onnx::import_model(model); }).find("is past the end of"),
            std::string::npos);
  write_external_model(dir, "missing.bin", 0, 48);
  EXPECT_NE(error_of([&] { onnx::import_model(model); }).find("missing.bin"), std::string::npos);
  fs::remove_all(dir);
}

::onnx::AttributeProto& add_text(::onnx::ModelProto& m, const std::string& name,
                                 const std::string& value) {
  auto* n = m.mutable_graph()->mutable_node(m.graph().node_size() - 1);
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(::onnx::AttributeProto::STRING);
  a->set_s(value);
  return *a;
}

TEST(OnnxImport, EinsumFormsBdlLacksAreNamed) {
  auto three = model_with({2, 3}, 13);
  add_node(three, "Einsum", {"x", "x", "x"}, "y");
  add_text(three, "equation", "ij,ij,ij->ij");
  add_output(three, "y");
  std::string e = error_of([&] { import_bytes(bytes_of(three)); });
  EXPECT_NE(e.find("Einsum of 3 operands; bdl computes one or two"), std::string::npos) << e;
  auto diagonal = model_with({3, 3}, 13);
  add_node(diagonal, "Einsum", {"x"}, "y");
  add_text(diagonal, "equation", "ii->i");
  add_output(diagonal, "y");
  e = error_of([&] { import_bytes(bytes_of(diagonal)); });
  EXPECT_NE(e.find("a label repeated within one term ('ii': a diagonal)"), std::string::npos) << e;
  auto bad = model_with({2, 3}, 13);
  add_node(bad, "Einsum", {"x"}, "y");
  add_text(bad, "equation", "ijk->i");
  add_output(bad, "y");
  e = error_of([&] { import_bytes(bytes_of(bad)); });
  EXPECT_NE(e.find("term 'ijk' has 3 labels for input 0 of shape [2, 3]"), std::string::npos) << e;
}

TEST(OnnxImport, WeightOfTheWrongSizeNamesTheInitializer) {
  auto m = model_with({1, 4});
  add_weight(m, "w", {4, 3}, 5);
  add_node(m, "MatMul", {"x", "w"}, "y");
  add_output(m, "y");
  const std::string e = error_of([&] { import_bytes(bytes_of(m)); });
  EXPECT_NE(e.find("initializer 'w': 5 values for 12 elements"), std::string::npos) << e;
}

TEST(OnnxImport, ShapeMismatchNamesTheNode) {
  auto m = model_with({1, 4});
  add_weight(m, "w", {3, 2}, 6);
  add_node(m, "MatMul", {"x", "w"}, "y");
  add_output(m, "y");
  const std::string e = error_of([&] { import_bytes(bytes_of(m)); });
  EXPECT_NE(e.find("node 'y_node' (MatMul)"), std::string::npos) << e;
  EXPECT_NE(e.find("cannot multiply [1, 4] by [3, 2]"), std::string::npos) << e;
}

TEST(OnnxImport, InitializersBecomeTrainableParameters) {
  // Conv (weight, bias) then BatchNormalization: every float initializer is a
  // parameter or a buffer of the imported graph, with the file's values.
  auto m = model_with({2, 1, 4, 4});
  add_weight(m, "w", {2, 1, 3, 3}, 18);
  add_weight(m, "b", {2}, 2);
  add_node(m, "Conv", {"x", "w", "b"}, "y");
  add_weight(m, "k", {2, 1, 1}, 2);
  add_node(m, "Mul", {"y", "k"}, "z");
  add_output(m, "z");
  auto imported = import_bytes(bytes_of(m));
  auto params = imported.graph->parameters();
  ASSERT_EQ(params.size(), 3u);
  int64_t total = 0;
  for (auto& p : params) {
    total += p.value->numel();
    for (float v : p.value->contiguous().span_f32()) EXPECT_EQ(v, 0.5f) << p.name;
  }
  EXPECT_EQ(total, 18 + 2 + 2);
  // A step on the parameters changes the output: the model can be fine-tuned.
  Tensor x = Tensor::full({2, 1, 4, 4}, 1.f);
  const Tensor before = imported.graph->forward(x).contiguous().clone();
  imported.graph->zero_grad();
  imported.graph->backward(x, Tensor::full(before.shape(), 1.f));
  for (auto& p : params) {
    auto v = p.value->span_f32();
    auto g = p.grad->contiguous().span_f32();
    for (size_t i = 0; i < v.size(); ++i) v[i] -= 0.1f * g[i];
  }
  EXPECT_FALSE(all_close(imported.graph->forward(x), before, 1e-6, 1e-6));
}

TEST(OnnxImport, ConstantShapeArithmeticIsFolded) {
  // Shape -> Gather -> Unsqueeze -> Concat -> Reshape, as exporters write a
  // flatten with a dynamic batch.
  auto m = model_with({2, 3, 4});
  add_node(m, "Shape", {"x"}, "s");
  auto* zero = m.mutable_graph()->add_initializer();
  zero->set_name("zero");
  zero->set_data_type(::onnx::TensorProto::INT64);
  zero->add_int64_data(0);
  add_node(m, "Gather", {"s", "zero"}, "n");
  auto* axes = m.mutable_graph()->add_initializer();
  axes->set_name("axes");
  axes->set_data_type(::onnx::TensorProto::INT64);
  axes->add_dims(1);
  axes->add_int64_data(0);
  add_node(m, "Unsqueeze", {"n", "axes"}, "n1");
  auto* minus = m.mutable_graph()->add_initializer();
  minus->set_name("minus");
  minus->set_data_type(::onnx::TensorProto::INT64);
  minus->add_dims(1);
  minus->add_int64_data(-1);
  auto* concat = m.mutable_graph()->add_node();
  concat->set_op_type("Concat");
  concat->add_input("n1");
  concat->add_input("minus");
  concat->add_output("shape");
  auto* axis = concat->add_attribute();
  axis->set_name("axis");
  axis->set_type(::onnx::AttributeProto::INT);
  axis->set_i(0);
  add_node(m, "Reshape", {"x", "shape"}, "y");
  add_output(m, "y");
  auto imported = import_bytes(bytes_of(m));
  Tensor x({2, 3, 4});
  EXPECT_EQ(imported.graph->forward(x).shape(), (Shape{2, 12}));
}

// Zoo models, exported and imported again, compute what they computed.
class ExportRoundTrip : public ::testing::TestWithParam<std::string> {};

TEST_P(ExportRoundTrip, ReimportGivesTheSameOutputs) {
  const auto& info = models::find(GetParam());
  global_rng().reseed(7);
  auto model = info.make(info.default_classes);
  // Running statistics away from 0 and 1, so BatchNorm's export is exercised.
  for (auto& b : model->buffers()) global_rng().fill_uniform(b.value->span_f32(), 0.5f, 1.5f);
  model->eval();
  onnx::ExportOptions options;
  options.input_shape = info.sample;
  const std::string bytes = onnx::export_model_bytes(*model, options);
  auto imported = import_bytes(bytes, GetParam() + ".onnx");
  imported.graph->eval();
  Shape shape{2};
  shape.insert(shape.end(), info.sample.begin(), info.sample.end());
  Tensor x(shape);
  global_rng().fill_uniform(x.span_f32(), -1, 1);
  if (GetParam() == "lstm_classifier" || GetParam() == "bert_classifier") {  // token ids
    for (float& v : x.span_f32()) v = std::floor((v + 1.f) * 50.f);
  }
  const Tensor want = model->forward(x).contiguous().clone();
  const Tensor& got = imported.graph->forward(x);
  // The same layers on the same kernels; only different graph plumbing.
  EXPECT_TRUE(all_close(got, want, 1e-5, 1e-5));
  // Attention and LayerNorm are written composed from ONNX's operators (opset
  // 13 has neither).
  // The importer maps that arithmetic back onto the native layers
  // (src/onnx/fuse.cpp, attention_block.cpp), parameters and all.
  if (GetParam() == "bert_classifier") {
    EXPECT_EQ(imported.fused,
              (std::map<std::string, int>{
                  {"Gelu", 2}, {"LayerNormalization", 5}, {"MultiHeadAttention", 2}}));
  } else {
    EXPECT_TRUE(imported.fused.empty());
  }
  EXPECT_EQ(imported.graph->parameters().size() + imported.graph->buffers().size(),
            model->parameters().size() + model->buffers().size());
}

INSTANTIATE_TEST_SUITE_P(Zoo, ExportRoundTrip,
                         ::testing::Values("lenet5", "lenet5_bn", "mlp", "vgg16_cifar",
                                           "resnet18_cifar", "inception_v1_bn", "lstm_classifier",
                                           "bert_classifier"),
                         [](const auto& info) { return info.param; });

// The layer types of a graph's nodes, counted.
std::map<std::string, int> layer_types(nn::Graph& g) {
  std::map<std::string, int> out;
  for (nn::Module* m : g.children()) ++out[std::string(m->type())];
  return out;
}

// The arithmetic of tests/fixtures/onnx_ops/fused_* (what exporters write for
// GELU, LayerNorm and attention) becomes one native layer each; onnx_ops_cases
// checks the outputs stay ONNX Runtime's.
TEST(OnnxImport, ExportersArithmeticBecomesNativeLayers) {
  const std::string dir = std::string(BDL_FIXTURE_DIR) + "/onnx_ops/";
  struct Case {
    const char* name;
    const char* op;
    const char* layer;
  };
  for (const Case& c :
       {Case{"fused_gelu_erf", "Gelu", "GELU"}, Case{"fused_gelu_erf_half_first", "Gelu", "GELU"},
        Case{"fused_layer_norm", "LayerNormalization", "LayerNorm"},
        Case{"fused_attention_transposed_key", "ScaledDotProductAttention",
             "ScaledDotProductAttention"},
        Case{"fused_attention_scaled_operands", "ScaledDotProductAttention",
             "ScaledDotProductAttention"}}) {
    SCOPED_TRACE(c.name);
    auto imported = onnx::import_model(dir + c.name + "/model.onnx");
    EXPECT_EQ(imported.fused, (std::map<std::string, int>{{c.op, 1}}));
    const auto types = layer_types(*imported.graph);
    EXPECT_EQ(types.count(c.layer), 1u);
    // Nothing of the arithmetic is left.
    for (const char* gone : {"Unary", "Softmax", "MatMul", "Reduce", "Transpose"}) {
      EXPECT_EQ(types.count(gone), 0u) << gone;
    }
  }
  // A constant key does not fit the native layer: the nodes convert as written.
  auto unfused = onnx::import_model(dir + "attention_constant_key_unfused/model.onnx");
  EXPECT_TRUE(unfused.fused.empty());
  ASSERT_EQ(unfused.unfused.size(), 1u);
  EXPECT_NE(unfused.unfused[0].find("a constant operand"), std::string::npos) << unfused.unfused[0];
  EXPECT_EQ(layer_types(*unfused.graph).count("ScaledDotProductAttention"), 0u);
}

// The patterns' first nodes with inputs and outputs missing, or with fewer
// than their operators take: the fusion passes read nothing that is not
// there, and the converters name the node.
TEST(OnnxImport, BrokenNodesWherePatternsStartAreNamed) {
  for (const char* op : {"Erf", "Tanh", "Softmax", "ReduceMean", "MatMul"}) {
    SCOPED_TRACE(op);
    auto m = model_with({2, 4});
    add_node(m, "Relu", {"x"}, "a");
    auto* broken = m.mutable_graph()->add_node();
    broken->set_op_type(op);
    broken->set_name("broken");
    add_node(m, "Mul", {"a", "a"}, "b");
    add_node(m, "Add", {"b", "a"}, "c");
    add_output(m, "c");
    // No inputs and no outputs, then an output read by the next node.
    const std::string unread = error_of([&] { import_bytes(bytes_of(m)); });
    EXPECT_NE(unread.find("node 'broken'"), std::string::npos) << unread;
    broken->add_output("d");
    add_node(m, "Add", {"c", "d"}, "e");
    add_output(m, "e");
    const std::string e = error_of([&] { import_bytes(bytes_of(m)); });
    EXPECT_NE(e.find("node 'broken'"), std::string::npos) << e;
  }
}

// An imported model with fused attention trains: its gradients reach the input,
// exports again and comes back the same.
TEST(OnnxImport, FusedAttentionTrainsAndRoundTrips) {
  const std::string path =
      std::string(BDL_FIXTURE_DIR) + "/onnx_ops/fused_attention_transposed_key/model.onnx";
  onnx::ImportOptions options;
  options.batch = 2;
  auto imported = onnx::import_model(path, options);
  Tensor x({2, 2, 5, 12});
  global_rng().reseed(3);
  global_rng().fill_uniform(x.span_f32(), -1, 1);
  const Tensor y = imported.graph->forward(x).contiguous().clone();
  const Tensor& dx = imported.graph->backward(x, Tensor::full(y.shape(), 1.f));
  EXPECT_EQ(dx.shape(), x.shape());
  // Softmax rows sum to one, so a gradient of ones on the output reaches the
  // value part only through the probabilities: nonzero there.
  double value_grad = 0;
  const Tensor dxc = dx.contiguous();
  for (int64_t i = 0; i < dxc.numel(); ++i) {
    if (i % 12 >= 8) value_grad += std::abs(dxc.f32()[i]);
  }
  EXPECT_GT(value_grad, 0);
  onnx::ExportOptions eo;
  eo.input_shape = {2, 5, 12};
  const std::string bytes = onnx::export_model_bytes(*imported.graph, eo);
  auto again = import_bytes(bytes, "again.onnx");
  EXPECT_EQ(again.fused["ScaledDotProductAttention"], 1);
  EXPECT_TRUE(all_close(again.graph->forward(x), y, 1e-5, 1e-6));
}

TEST(OnnxExport, RecurrentLayersRoundTrip) {
  // Embedding -> LSTM (sequences) -> TimeDistributed(Linear) -> GRU (last state):
  // exported as Gather, LSTM and GRU with their gates reordered, and back.
  global_rng().reseed(3);
  nn::Sequential model;
  model.add(std::make_unique<nn::Embedding>(
      nn::EmbeddingOptions{.num_embeddings = 20, .embedding_dim = 6}));
  model.add(std::make_unique<nn::LSTM>(nn::RecurrentOptions{6, 5, true, true}));
  model.add(std::make_unique<nn::TimeDistributed>(std::make_unique<nn::Linear>(5, 4)));
  model.add(
      std::make_unique<nn::GRU>(nn::RecurrentOptions{4, 3, false, true}, /*reset_after=*/false));
  model.eval();
  onnx::ExportOptions options;
  options.input_shape = {7};
  auto imported = import_bytes(onnx::export_model_bytes(model, options), "rnn.onnx");
  std::vector<float> ids;
  for (int i = 0; i < 3 * 7; ++i) ids.push_back(static_cast<float>((i * 7) % 20));
  const Tensor x = Tensor::from_vector(ids, {3, 7});
  const Tensor want = model.forward(x).contiguous().clone();
  EXPECT_TRUE(all_close(imported.graph->forward(x), want, 1e-5, 1e-6));
}

// Every layer import builds on, in one graph: exported and imported back, and
// accepted by onnx.checker.
std::unique_ptr<nn::Graph> tensor_layers() {
  global_rng().reseed(11);
  auto g = std::make_unique<nn::Graph>();
  auto x = g->add_input("x");  // (N, 2, 4, 4)
  auto up = g->add(std::make_unique<nn::ConvTranspose2d>(
                       nn::ConvTranspose2dOptions{.in_channels = 2,
                                                  .out_channels = 4,
                                                  .kernel = 3,
                                                  .stride = 2,
                                                  .padding = 1,
                                                  .padding_end = nn::Size2{0, 1},
                                                  .output_padding = 1,
                                                  .groups = 2}),
                   {x}, "up");  // (N, 4, 9, 8)
  auto big = g->add(std::make_unique<nn::Resize>(
                        nn::ResizeOptions{.mode = nn::ResizeMode::linear,
                                          .coordinates = nn::ResizeCoordinates::align_corners,
                                          .height = 11,
                                          .width = 9}),
                    {up});
  auto t0 = g->add(std::make_unique<nn::Resize>(nn::ResizeOptions{.scale_h = 0.5, .scale_w = 0.5}),
                   {big});  // (N, 4, 5, 4)
  auto back =
      g->add(std::make_unique<nn::Resize>(nn::ResizeOptions{.mode = nn::ResizeMode::nearest,
                                                            .rounding = nn::NearestRounding::ceil,
                                                            .height = 9,
                                                            .width = 8}),
             {t0});
  auto t = g->add(std::make_unique<nn::Transpose>(std::vector<int64_t>{0, 1, 3, 2}), {back});
  auto p = g->add(
      std::make_unique<nn::Pad>(std::vector<int64_t>{0, 0, 1, 0, 0, 0, 0, 2}, nn::PadMode::reflect),
      {t});  // (N, 4, 9, 11)
  auto s = g->add(std::make_unique<nn::Slice>(std::vector<int64_t>{3}, std::vector<int64_t>{1},
                                              std::vector<int64_t>{10}, std::vector<int64_t>{3}),
                  {p});  // (N, 4, 9, 3)
  auto k =
      g->add(std::make_unique<nn::Binary>(nn::BinaryOp::mul, Shape{4, 1, 1}, false, true), {s});
  auto e = g->add(std::make_unique<nn::Unary>(nn::UnaryOp::erf), {k});
  auto r = g->add(std::make_unique<nn::Reduce>(nn::ReduceOp::max, std::vector<int64_t>{2}, false),
                  {e});  // (N, 4, 3)
  auto ga = g->add(std::make_unique<nn::Gather>(1, std::vector<int64_t>{3, 0}, Shape{2}), {r});
  auto v = g->add(std::make_unique<nn::View>(Shape{-1, 6}), {ga});  // (N, 6)
  auto mm = g->add(std::make_unique<nn::MatMul>(Shape{6, 3}), {v});
  g->add(std::make_unique<nn::Binary>(nn::BinaryOp::sub), {mm, mm});
  g->set_output(mm);
  for (auto& prm : g->parameters()) global_rng().fill_uniform(prm.value->span_f32(), -1, 1);
  return g;
}

TEST(OnnxExport, TensorLayersRoundTripAndPassTheChecker) {
  auto model = tensor_layers();
  model->eval();
  onnx::ExportOptions options;
  options.input_shape = {2, 4, 4};
  const std::string bytes = onnx::export_model_bytes(*model, options);
  auto imported = import_bytes(bytes, "layers.onnx");
  Tensor x({3, 2, 4, 4});
  global_rng().fill_uniform(x.span_f32(), -1, 1);
  const Tensor want = model->forward(x).contiguous().clone();
  EXPECT_TRUE(all_close(imported.graph->forward(x), want, 1e-5, 1e-6));
  const fs::path path = fs::temp_directory_path() / "bdl_tensor_layers.onnx";
  onnx::export_model(*model, path.string(), options);
  const std::string command =
      "/usr/bin/python3 -c 'import sys, onnx; onnx.checker.check_model(onnx.load(sys.argv[1]), "
      "full_check=True)' " +
      path.string();
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
  fs::remove(path);
}

TEST(OnnxExport, LayerWithoutAnOnnxFormIsNamed) {
  nn::Sequential model;
  model.add(std::make_unique<nn::BatchNorm>(
      nn::BatchNormOptions{.num_features = 3, .track_running_stats = false}));
  onnx::ExportOptions options;
  options.input_shape = {3, 2, 2};
  const std::string e = error_of([&] { onnx::export_model_bytes(model, options); });
  EXPECT_NE(e.find("without running statistics"), std::string::npos) << e;
}

TEST(OnnxExport, ExportedFilesPassOnnxChecker) {
  const fs::path dir = fs::temp_directory_path() / "bdl_onnx_checker";
  fs::create_directories(dir);
  std::string files;
  for (const std::string name :
       {"lenet5_bn", "resnet18_cifar", "inception_v1_bn", "lstm_classifier", "bert_classifier"}) {
    const auto& info = models::find(name);
    auto model = info.make(info.default_classes);
    model->eval();
    onnx::ExportOptions options;
    options.input_shape = info.sample;
    const fs::path path = dir / (name + ".onnx");
    onnx::export_model(*model, path.string(), options);
    files += " " + path.string();
  }
  const std::string command =
      "/usr/bin/python3 -c 'import sys, onnx\n"
      "for p in sys.argv[1:]: onnx.checker.check_model(onnx.load(p), full_check=True)'" +
      files;
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace bdl::testing

namespace bdl::testing {
namespace {

TEST(OnnxImport, GraphRunsOnOtherBatchSizesThanTheImports) {
  // x (N, 2, 3), N symbolic -> Transpose (2, N, 3) -> Reshape [2, -1] -> Unsqueeze 0
  // -> Squeeze 0: imported at batch 1, run at batch 3.
  ::onnx::ModelProto m;
  m.set_ir_version(7);
  m.add_opset_import()->set_version(11);
  auto* g = m.mutable_graph();
  auto* in = g->add_input();
  in->set_name("x");
  auto* t = in->mutable_type()->mutable_tensor_type();
  t->set_elem_type(::onnx::TensorProto::FLOAT);
  t->mutable_shape()->add_dim()->set_dim_param("N");
  t->mutable_shape()->add_dim()->set_dim_value(2);
  t->mutable_shape()->add_dim()->set_dim_value(3);
  auto* tr = g->add_node();
  tr->set_op_type("Transpose");
  tr->add_input("x");
  tr->add_output("t");
  auto* perm = tr->add_attribute();
  perm->set_name("perm");
  perm->set_type(::onnx::AttributeProto::INTS);
  for (int64_t p : {1, 0, 2}) perm->add_ints(p);
  auto* shape = g->add_initializer();
  shape->set_name("shape");
  shape->set_data_type(::onnx::TensorProto::INT64);
  shape->add_dims(2);
  shape->add_int64_data(2);
  shape->add_int64_data(-1);
  auto* r = g->add_node();
  r->set_op_type("Reshape");
  r->add_input("t");
  r->add_input("shape");
  r->add_output("y");
  g->add_output()->set_name("y");
  std::string bytes;
  m.SerializeToString(&bytes);
  auto imported =
      onnx::import_model(std::as_bytes(std::span(bytes.data(), bytes.size())), "b.onnx");
  std::vector<float> values(18);
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i);
  const Tensor x = Tensor::from_vector(values, {3, 2, 3});
  const Tensor& y = imported.graph->forward(x);
  ASSERT_EQ(y.shape(), (Shape{2, 9}));
  // Row 0 holds x[:, 0, :] of the three samples.
  EXPECT_EQ(y.contiguous().to_vector()[3], 6.f);
  EXPECT_EQ(y.contiguous().to_vector()[9], 3.f);
}

}  // namespace
}  // namespace bdl::testing
