#include "bdl/onnx/import.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <set>

#include "bdl/core/file.h"
#include "bdl/nn/module.h"
#include "onnx/context.h"
#include "onnx/fuse.h"

namespace bdl::onnx {
namespace {

bool default_domain(const std::string& d) { return d.empty() || d == "ai.onnx"; }

Shape input_shape(const ::onnx::ValueInfoProto& info, const std::string& file, int64_t batch) {
  const auto& type = info.type();
  if (!type.has_tensor_type()) {
    throw Unsupported(file + ": input '" + info.name() + "' is not a tensor");
  }
  const auto& t = type.tensor_type();
  const bool ids =
      t.elem_type() == ::onnx::TensorProto::INT64 || t.elem_type() == ::onnx::TensorProto::INT32;
  if (t.elem_type() != ::onnx::TensorProto::FLOAT && !ids) {
    throw Unsupported(file + ": input '" + info.name() + "' has element type " +
                      ::onnx::TensorProto::DataType_Name(
                          static_cast<::onnx::TensorProto::DataType>(t.elem_type())) +
                      "; bdl models take float32 inputs (and integer ids)");
  }
  BDL_CHECK(t.has_shape(), file, ": input '", info.name(), "' has no shape");
  Shape shape;
  for (int i = 0; i < t.shape().dim_size(); ++i) {
    const auto& d = t.shape().dim(i);
    if (d.has_dim_value()) {
      BDL_CHECK(d.dim_value() >= 0, file, ": input '", info.name(), "' has dimension ",
                d.dim_value());
      shape.push_back(d.dim_value());
    } else if (i == 0) {
      shape.push_back(batch);
    } else {
      throw Unsupported(file + ": input '" + info.name() + "' has symbolic dimension " +
                        std::to_string(i) + " ('" + d.dim_param() +
                        "'); only the batch dimension may be symbolic");
    }
  }
  return shape;
}

// Every operator bdl lacks, named at once.
void check_operators(const ::onnx::GraphProto& g, const std::string& file) {
  std::map<std::string, int> missing;
  for (const auto& n : g.node()) {
    const std::string op =
        default_domain(n.domain()) ? n.op_type() : n.domain() + "." + n.op_type();
    if (!default_domain(n.domain()) || find_converter(n.op_type()) == nullptr) ++missing[op];
  }
  if (missing.empty()) return;
  std::string list;
  for (const auto& [op, count] : missing) {
    list +=
        (list.empty() ? "" : ", ") + op + (count > 1 ? " (x" + std::to_string(count) + ")" : "");
  }
  throw Unsupported(file + ": unsupported operator" + (missing.size() > 1 ? "s: " : ": ") + list);
}

int64_t opset_of(const ::onnx::ModelProto& model, const std::string& file) {
  int64_t opset = 0;
  for (const auto& o : model.opset_import()) {
    if (default_domain(o.domain())) opset = o.version();
  }
  if (opset == 0 && model.opset_import_size() == 0) opset = 1;
  if (opset < kMinOpset || opset > kMaxOpset) {
    throw Unsupported(file + ": opset " + std::to_string(opset) + "; bdl imports opsets " +
                      std::to_string(kMinOpset) + " to " + std::to_string(kMaxOpset));
  }
  return opset;
}

// The graph's inputs that are not initializers become graph inputs (or
// constants, when the caller binds them).
void add_inputs(const ::onnx::GraphProto& g, const std::string& file, const ImportOptions& options,
                std::map<std::string, Value>& values, ImportedModel& out) {
  for (const auto& in : g.input()) {
    if (values.count(in.name())) continue;  // an initializer listed as an input (IR < 4)
    if (const auto bound = options.bind.find(in.name()); bound != options.bind.end()) {
      Value v = Context::constant(bound->second.contiguous().clone());
      v.initializer = v.constant.dtype() == DType::f32;
      values[in.name()] = std::move(v);
      continue;
    }
    Value v;
    v.shape = input_shape(in, file, options.batch);
    if (!v.shape.empty()) v.batch_axis = 0;
    const int type = in.type().tensor_type().elem_type();
    v.integer = type == ::onnx::TensorProto::INT64 || type == ::onnx::TensorProto::INT32;
    v.node = out.graph->add_input(in.name());
    out.input_names.push_back(in.name());
    out.input_shapes.push_back(v.shape);
    values[in.name()] = std::move(v);
  }
  if (out.input_names.empty()) {
    throw Unsupported(file + ": the model has no inputs (its outputs are constants)");
  }
}

// One node through its converter, errors naming the node.
void convert_node(const ::onnx::NodeProto& n, Converter converter, const std::string& file,
                  int64_t opset, int index, const std::set<std::string>& consumed,
                  std::map<std::string, Value>& values, nn::Graph& graph) {
  Context ctx(graph, values, consumed, opset, n, index);
  try {
    converter(ctx);
  } catch (const Unsupported& e) {
    throw Unsupported(file + ": " + ctx.where() + ": " + e.what());
  } catch (const Error& e) {
    throw Error(file + ": " + ctx.where() + ": " + e.what());
  }
  for (int i = 0; i < n.output_size(); ++i) {
    if (ctx.output_used(static_cast<size_t>(i)) && !values.count(n.output(i))) {
      throw Unsupported(file + ": " + ctx.where() + ": output " + std::to_string(i) + " ('" +
                        n.output(i) + "') is used, and bdl computes only the first");
    }
  }
}

// The nodes in order, the fused ones (fuse.h) on their native layers where the
// shapes fit and as their original nodes where not (with the reason in
// `unfused`). Returns the fused nodes kept, by operator.
std::map<std::string, int> convert_nodes(const ::onnx::GraphProto& g, const std::string& file,
                                         int64_t opset, FusedGraph& fused,
                                         std::map<std::string, Value>& values, nn::Graph& graph,
                                         std::vector<std::string>& unfused) {
  std::set<std::string> consumed;
  for (const auto& n : g.node()) {
    for (const auto& i : n.input()) consumed.insert(i);
  }
  for (const auto& o : g.output()) consumed.insert(o.name());
  // Weights come from the file: no random initial values to draw.
  nn::SkipInitialisation skip;
  std::map<std::string, int> kept;
  int index = 0;
  for (const auto& step : fused.steps) {
    const auto& n = *step.node;
    if (step.originals.empty()) {
      convert_node(n, find_converter(n.op_type()), file, opset, index++, consumed, values, graph);
      continue;
    }
    try {
      const Converter converter = n.domain() == kFusedDomain ? find_fused_converter(n.op_type())
                                                             : find_converter(n.op_type());
      if (converter == nullptr) throw NotFusable{"no converter"};
      convert_node(n, converter, file, opset, index, consumed, values, graph);
      ++kept[n.op_type()];
      fused.kept.insert(&n);
    } catch (const NotFusable& e) {
      unfused.push_back((n.name().empty() ? n.op_type() : n.name()) + ": " + e.reason);
      for (const auto* o : step.originals) {
        convert_node(*o, find_converter(o->op_type()), file, opset, index, consumed, values, graph);
      }
    }
    index += static_cast<int>(step.originals.size());
  }
  return kept;
}

void set_outputs(const ::onnx::GraphProto& g, const std::string& file,
                 const std::map<std::string, Value>& values, ImportedModel& out) {
  BDL_CHECK(g.output_size() > 0, file, ": the model has no outputs");
  for (const auto& o : g.output()) {
    const auto it = values.find(o.name());
    BDL_CHECK(it != values.end(), file, ": output '", o.name(), "' is not computed by any node");
    if (it->second.is_constant()) {
      throw Unsupported(file + ": output '" + o.name() +
                        "' is a constant; bdl graphs compute their outputs from inputs");
    }
    out.output_names.push_back(o.name());
    out.output_nodes.push_back(it->second.node);
    out.graph->keep_output(it->second.node);
  }
  out.graph->set_output(out.output_nodes.front());
}

// An initializer whose data is in another file (what exporters write for models
// over protobuf's 2 GiB): location relative to the model's folder, offset and
// length in bytes. Float32 only; the file opened once per location.
Tensor external_tensor(const ::onnx::TensorProto& p, const std::filesystem::path& dir,
                       std::map<std::string, std::unique_ptr<InputFile>>& files,
                       const std::string& what) {
  std::string location;
  uint64_t offset = 0;
  std::optional<uint64_t> length;
  for (const auto& e : p.external_data()) {
    try {
      if (e.key() == "location") location = e.value();
      if (e.key() == "offset") offset = std::stoull(e.value());
      if (e.key() == "length") length = std::stoull(e.value());
    } catch (const std::exception&) {
      fail(what, ": external_data ", e.key(), " '", e.value(), "' is not a number");
    }
  }
  const std::filesystem::path rel(location);
  BDL_CHECK(!location.empty() && rel.is_relative() &&
                std::none_of(rel.begin(), rel.end(), [](const auto& part) { return part == ".."; }),
            what, ": external data location '", location,
            "' must be a file beside the model (a relative path without '..')");
  BDL_CHECK(
      p.data_type() == ::onnx::TensorProto::FLOAT, what, ": external data of type ",
      ::onnx::TensorProto::DataType_Name(static_cast<::onnx::TensorProto::DataType>(p.data_type())),
      " (bdl reads float32 there)");
  Shape shape(p.dims().begin(), p.dims().end());
  for (int64_t d : shape) BDL_CHECK(d >= 0, what, ": negative dimension ", d);
  const auto bytes = static_cast<uint64_t>(shape_numel(shape)) * 4;
  BDL_CHECK(!length || *length == bytes, what, ": external data of ", *length, " bytes for ",
            bytes / 4, " float32 elements");
  auto& file = files[location];
  if (!file) file = std::make_unique<InputFile>((dir / rel).string());
  BDL_CHECK(offset + bytes <= file->size(), what, ": external data at ", offset, "+", bytes,
            " is past the end of ", file->path(), " (", file->size(), " bytes)");
  Tensor t = Tensor::empty(shape);
  if (bytes > 0) file->read(t.f32(), bytes, offset, what.c_str());
  return t;
}

ImportedModel convert(const ::onnx::ModelProto& model, const std::string& file,
                      const ImportOptions& options,
                      const std::optional<std::filesystem::path>& external_dir) {
  const auto& g = model.graph();
  check_operators(g, file);
  ImportedModel out;
  out.producer = model.producer_name() +
                 (model.producer_version().empty() ? "" : " " + model.producer_version());
  out.opset = opset_of(model, file);
  // Data for constants cannot outgrow the file by much; folding (Expand,
  // ConstantOfShape) is held to a budget too.
  // Weights in external files count as part of the file.
  size_t external_bytes = 0;
  for (const auto& init : g.initializer()) {
    if (init.data_location() != ::onnx::TensorProto::EXTERNAL) continue;
    int64_t n = 1;
    for (int64_t d : init.dims()) n *= std::max<int64_t>(d, 0);
    external_bytes += static_cast<size_t>(n) * 4;
  }
  const size_t limit =
      (static_cast<size_t>(model.ByteSizeLong()) + external_bytes) * 4 + (size_t{256} << 20);
  std::optional<AllocationBudget> budget(std::in_place, limit, file);
  std::map<std::string, Value> values;
  std::map<std::string, std::unique_ptr<InputFile>> external_files;
  for (const auto& init : g.initializer()) {
    const std::string what = file + ": initializer '" + init.name() + "'";
    const bool external = init.data_location() == ::onnx::TensorProto::EXTERNAL;
    if (external && !external_dir) {
      throw Unsupported(what + ": data in an external file, for a model read from memory");
    }
    Value v =
        Context::constant(external ? external_tensor(init, *external_dir, external_files, what)
                                   : to_tensor(init, what));
    v.initializer = true;
    values[init.name()] = std::move(v);
  }
  // Converted once with the patterns of fuse_patterns; when attention cores
  // were kept, once more with the whole blocks around them (their layouts are
  // checked on the shapes and constants of the first conversion).
  const std::map<std::string, Value> initializers = values;
  FusedGraph first = fuse_patterns(g, out.opset, options.fuse);
  std::optional<FusedGraph> second;  // its steps point into the first's fused nodes too
  FusedGraph* steps = &first;
  for (int pass = 0; pass < 2; ++pass) {
    // Each conversion is held to the budget on its own.
    budget.reset();
    budget.emplace(limit, file);
    out.graph = std::make_unique<nn::Graph>();
    out.graph->set_name(g.name());
    out.input_names.clear();
    out.input_shapes.clear();
    out.unfused.clear();
    values = initializers;
    add_inputs(g, file, options, values, out);
    out.fused = convert_nodes(g, file, out.opset, *steps, values, *out.graph, out.unfused);
    if (pass == 1 || !out.fused.count("ScaledDotProductAttention")) break;
    // The layout checks' index tensors are held to a budget of their own.
    budget.reset();
    budget.emplace(limit, file);
    second = fuse_attention_blocks(g, first, values, out.opset);
    if (!second) break;
    steps = &*second;
  }
  set_outputs(g, file, values, out);
  return out;
}

}  // namespace

namespace {
ImportedModel parse_and_convert(std::span<const std::byte> bytes, const std::string& name,
                                const ImportOptions& options,
                                const std::optional<std::filesystem::path>& external_dir) {
  BDL_CHECK(bytes.size() < (size_t{1} << 31), name, ": ", bytes.size(),
            " bytes; protobuf reads 2 GiB at most (exporters keep larger models' weights in "
            "external data files, which bdl reads)");
  ::onnx::ModelProto model;
  BDL_CHECK(model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())), name,
            ": not an ONNX model (protobuf parse failed; truncated or another format?)");
  BDL_CHECK(model.has_graph(), name, ": not an ONNX model (no graph)");
  return convert(model, name, options, external_dir);
}
}  // namespace

ImportedModel import_model(std::span<const std::byte> bytes, const std::string& name,
                           const ImportOptions& options) {
  return parse_and_convert(bytes, name, options, std::nullopt);
}

ImportedModel import_model(const std::string& path, const ImportOptions& options) {
  // Parsed straight from the page cache through a read-only mapping: reading
  // the file into a buffer first would touch as much fresh memory as the weights.
  InputFile file(path);
  return parse_and_convert(file.bytes(), path, options, std::filesystem::path(path).parent_path());
}

std::vector<std::string> graph_input_names(const std::string& path) {
  const std::string bytes = InputFile(path).read_all();
  ::onnx::ModelProto model;
  BDL_CHECK(bytes.size() < (size_t{1} << 31) && model.ParseFromString(bytes), path,
            ": not an ONNX model (protobuf parse failed)");
  std::set<std::string> initializers;
  for (const auto& i : model.graph().initializer()) initializers.insert(i.name());
  std::vector<std::string> out;
  for (const auto& i : model.graph().input()) {
    if (initializers.count(i.name())) continue;
    if (!i.type().has_tensor_type()) {
      throw Unsupported(path + ": input '" + i.name() + "' is not a tensor");
    }
    out.push_back(i.name());
  }
  return out;
}

Tensor read_tensor(const std::string& path) {
  const std::string bytes = InputFile(path).read_all();
  ::onnx::TensorProto proto;
  BDL_CHECK(proto.ParseFromString(bytes), path, ": not a serialized ONNX TensorProto");
  return to_tensor(proto, path);
}

std::vector<std::string> supported_operators() { return converter_names(); }

}  // namespace bdl::onnx
