// Keras model files: the .keras archive (a zip of config.json and
// model.weights.h5, Keras 3) and the HDF5 file (.h5: a model_config attribute
// and model_weights/<layer>/..., Keras 2 and Keras 3's legacy saving). The
// config's layers become a bdl Graph through the converters of layers.cpp.
#include "bdl/keras/import.h"

#include <unzip.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>

#include "bdl/nn/transpose.h"
#include "keras/builder.h"
#include "keras/hdf5_file.h"

namespace bdl::keras {

// ---- Builder ----

Value Builder::add(std::unique_ptr<nn::Module> module, const std::vector<Value>& from,
                   const std::string& name, bool channels_first) {
  std::vector<Shape> shapes;
  std::vector<nn::Graph::Node> nodes;
  for (const Value& v : from) {
    shapes.push_back(v.shape);
    nodes.push_back(v.node);
  }
  module->set_name(name);
  Shape shape;
  auto* multi = dynamic_cast<nn::MultiInputModule*>(module.get());
  try {
    shape = multi ? multi->output_shape_many(shapes) : module->output_shape(shapes.at(0));
  } catch (const Error& e) {
    fail("layer '", name, "': ", e.what());
  }
  Value v;
  v.node = graph_.add(std::move(module), nodes, name);
  v.shape = std::move(shape);
  v.channels_first = channels_first;
  return v;
}

Value Builder::keras_layout(const Value& v, const std::string& name) {
  if (!v.channels_first) return v;
  return add(std::make_unique<nn::Transpose>(std::vector<int64_t>{0, 2, 3, 1}), {v}, name, false);
}

Value Builder::channels_first(const Value& v, const std::string& name) {
  if (v.channels_first) return v;
  if (v.shape.size() != 4) fail(name, ": a rank ", v.shape.size(), " value is not an image");
  return add(std::make_unique<nn::Transpose>(std::vector<int64_t>{0, 3, 1, 2}), {v}, name, true);
}

Tensor LayerSpec::weight(size_t i, const Shape& shape) const {
  if (i >= weights.size()) {
    fail("layer '", name, "' (", class_name, "): the file has ", weights.size(),
         " weights for it, expected more");
  }
  if (weights[i].shape() != shape && weights[i].numel() == shape_numel(shape)) {
    return weights[i].contiguous().view(shape);  // the same values in another shape
  }
  BDL_CHECK(weights[i].shape() == shape, "layer '", name, "' (", class_name, "): weight ", i,
            " has shape ", weights[i].shape_str(), ", expected ", shape_str(shape));
  return weights[i];
}

namespace {

// ---- The two file formats ----

bool has_zip_magic(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  char magic[4] = {};
  f.read(magic, 4);
  return f.gcount() == 4 && magic[0] == 'P' && magic[1] == 'K' && magic[2] == 3 && magic[3] == 4;
}

// One file of a zip archive, whole; nullopt when the archive lacks it.
std::optional<std::string> zip_entry(const std::string& path, const std::string& entry) {
  unzFile zip = unzOpen64(path.c_str());
  BDL_CHECK(zip != nullptr, path, ": not a readable zip archive (a .keras file is one)");
  std::optional<std::string> out;
  if (unzLocateFile(zip, entry.c_str(), 1) == UNZ_OK && unzOpenCurrentFile(zip) == UNZ_OK) {
    unz_file_info64 info;
    unzGetCurrentFileInfo64(zip, &info, nullptr, 0, nullptr, 0, nullptr, 0);
    std::string data(info.uncompressed_size, '\0');
    const int n = unzReadCurrentFile(zip, data.data(), static_cast<unsigned>(data.size()));
    const bool whole = n == static_cast<int>(data.size()) && unzCloseCurrentFile(zip) == UNZ_OK;
    unzClose(zip);
    BDL_CHECK(whole, path, ": ", entry, " in the archive is damaged (its CRC or size differs)");
    return data;
  }
  unzClose(zip);
  return out;
}

Json parse_json(const std::string& text, const std::string& what) {
  try {
    return Json::parse(text);
  } catch (const Json::exception& e) {
    fail(what, ": not valid JSON (", e.what(), ")");
  }
}

// Datasets under a group, depth first, numbered children ("0", "1", ... "10")
// in numeric order: a Keras 3 layer's vars, then its cell's.
void collect(const Hdf5File& h5, const std::string& group, std::vector<Tensor>& out) {
  auto names = h5.children(group);
  std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
    const bool da = !a.empty() && std::all_of(a.begin(), a.end(), ::isdigit);
    const bool db = !b.empty() && std::all_of(b.begin(), b.end(), ::isdigit);
    if (da && db) return std::stoll(a) < std::stoll(b);
    if (da != db) return db;  // "cell" after "vars"? numbers come after names
    return a > b;             // "vars" before "cell"
  });
  for (const auto& n : names) {
    std::string path = group;
    path += "/";
    path += n;
    if (h5.is_group(path)) {
      collect(h5, path, out);
    } else {
      out.push_back(h5.dataset(path));
    }
  }
}

// Keras 3's weights file: layers/<object>/vars/<i>, the layer's name an attribute.
std::map<std::string, std::vector<Tensor>> keras3_weights(const Hdf5File& h5) {
  std::map<std::string, std::vector<Tensor>> out;
  for (const auto& object : h5.children("/layers")) {
    const std::string group = "/layers/" + object;
    if (h5.exists(group + "/layers")) {
      unsupported(h5.name(), ": layer '", object,
                  "' is a nested model (flatten it in Keras first)");
    }
    const auto name = h5.text_attribute(group + "/vars", "name");
    std::vector<Tensor> weights;
    collect(h5, group, weights);
    out[name.value_or(object)] = std::move(weights);
  }
  return out;
}

// Keras 2's: model_weights/<layer> lists its weight_names in order.
std::map<std::string, std::vector<Tensor>> hdf5_weights(const Hdf5File& h5) {
  std::map<std::string, std::vector<Tensor>> out;
  const std::string root = h5.exists("/model_weights") ? "/model_weights" : "/";
  for (const auto& layer : h5.text_list_attribute(root, "layer_names")) {
    std::string group = root;
    if (root != "/") group += "/";
    group += layer;
    std::vector<Tensor> weights;
    for (const auto& w : h5.text_list_attribute(group, "weight_names")) {
      std::string path = group;
      path += "/";
      path += w;
      weights.push_back(h5.dataset(path));
    }
    out[layer] = std::move(weights);
  }
  return out;
}

// ---- The config ----

struct Layer {
  std::string class_name, name;
  Json config;
  std::vector<std::string> inputs;   // the layers feeding it (functional models)
  std::optional<float> scalar = {};  // a number argument (x + 3.0)
  bool scalar_first = false;
};

// A tensor reference of Keras 3 ({"keras_history": [name, node, index]}) or
// Keras 2 ([name, node, index, kwargs]): the layer's name.
std::string history_name(const Json& t, const std::string& layer) {
  if (t.is_object() && t.contains("config") && t["config"].contains("keras_history")) {
    const Json& h = t["config"]["keras_history"];
    if (h[1].get<int64_t>() != 0 || h[2].get<int64_t>() != 0) {
      unsupported("layer '", layer, "' reads output ", h[2], " of call ", h[1], " of layer '",
                  h[0].get<std::string>(), "' (shared layers and several outputs)");
    }
    return h[0].get<std::string>();
  }
  if (t.is_array() && !t.empty() && t[0].is_string()) return t[0].get<std::string>();
  fail("layer '", layer, "': an inbound node bdl cannot read: ", t.dump().substr(0, 200));
}

void read_inbound(const Json& l, Layer& layer) {
  const std::string& name = layer.name;
  const Json nodes = l.value("inbound_nodes", Json::array());
  if (nodes.empty()) return;
  if (nodes.size() > 1) unsupported("layer '", name, "' is called ", nodes.size(), " times");
  const Json& node = nodes[0];
  if (node.is_object()) {  // Keras 3: {"args": [tensor or [tensors], numbers], "kwargs": {}}
    for (const Json& arg : node.at("args")) {
      if (arg.is_number()) {
        layer.scalar = arg.get<float>();
        layer.scalar_first = layer.inputs.empty();
      } else if (arg.is_array() && !arg.empty() && arg[0].is_object()) {
        for (const Json& t : arg) layer.inputs.push_back(history_name(t, name));
      } else if (arg.is_object()) {
        layer.inputs.push_back(history_name(arg, name));
      } else {
        unsupported("layer '", name, "': an argument bdl cannot read: ", arg.dump().substr(0, 80));
      }
    }
    return;
  }
  for (const Json& t : node) layer.inputs.push_back(history_name(t, name));  // Keras 2
}

struct Architecture {
  std::string name;
  bool sequential = true;
  std::vector<Layer> layers;
  Shape input_shape;  // one sample
  bool integer_input = false;
  std::string output;  // the output layer (functional)
};

Shape batch_shape_of(const Json& config) {
  for (const char* key : {"batch_shape", "batch_input_shape"}) {
    if (config.contains(key) && config[key].is_array()) {
      Shape s;
      for (const Json& d : config[key]) s.push_back(d.is_null() ? -1 : d.get<int64_t>());
      return s;
    }
  }
  return {};
}

std::string dtype_of(const Json& config) {
  const Json d = config.value("dtype", Json("float32"));
  if (d.is_string()) return d.get<std::string>();
  if (d.is_object() && d.contains("config")) return d["config"].value("name", "float32");
  return "float32";
}

Architecture read_architecture(const Json& top, const std::string& file) {
  Architecture a;
  const std::string kind = top.value("class_name", "");
  if (kind != "Sequential" && kind != "Functional" && kind != "Model") {
    unsupported(file, ": a ", kind.empty() ? "model" : kind,
                " (bdl imports Sequential and functional models)");
  }
  a.sequential = kind == "Sequential";
  const Json& config = top.at("config");
  a.name = config.value("name", "model");
  std::set<std::string> missing;
  std::map<std::string, int> count;
  for (const Json& l : config.at("layers")) {
    Layer layer{
        l.at("class_name").get<std::string>(), l["config"].value("name", ""), l["config"], {}};
    if (!a.sequential) read_inbound(l, layer);
    if (find_converter(layer.class_name) == nullptr) {
      const bool nested = layer.class_name == "Sequential" || layer.class_name == "Functional" ||
                          layer.class_name == "Model";
      ++count[nested ? layer.class_name + " (a nested model)" : layer.class_name];
    }
    a.layers.push_back(std::move(layer));
  }
  if (!count.empty()) {
    std::string list;
    for (const auto& [c, n] : count) {
      list += (list.empty() ? "" : ", ") + c + (n > 1 ? " (x" + std::to_string(n) + ")" : "");
    }
    unsupported(file, ": unsupported layer", count.size() > 1 ? "s: " : ": ", list);
  }
  // The input: an InputLayer, or the first layer's batch_input_shape (Keras 2),
  // or the Sequential's build_input_shape.
  Shape batch;
  std::string dtype = "float32";
  for (const Layer& l : a.layers) {
    batch = batch_shape_of(l.config);
    if (!batch.empty()) {
      dtype = dtype_of(l.config);
      break;
    }
  }
  if (batch.empty() && config.contains("build_input_shape")) {
    for (const Json& d : config["build_input_shape"])
      batch.push_back(d.is_null() ? -1 : d.get<int64_t>());
  }
  if (batch.size() < 2) fail(file, ": the model records no input shape (build it in Keras first)");
  for (size_t i = 1; i < batch.size(); ++i) {
    if (batch[i] < 0)
      unsupported(file, ": input shape ", shape_str(batch), " has an unknown dimension");
  }
  a.input_shape.assign(batch.begin() + 1, batch.end());
  a.integer_input = dtype.find("int") != std::string::npos;
  if (!a.sequential) {
    const Json outs = config.value("output_layers", Json::array());
    const Json ins = config.value("input_layers", Json::array());
    const bool one_out = outs.size() == 1 || (outs.size() == 3 && outs[0].is_string());
    const bool one_in = ins.size() == 1 || (ins.size() == 3 && ins[0].is_string());
    if (!one_out || !one_in) unsupported(file, ": a model with several inputs or outputs");
    a.output = outs[0].is_string() ? outs[0].get<std::string>() : outs[0][0].get<std::string>();
  }
  return a;
}

// ---- The graph ----

ImportedModel build(const Architecture& a,
                    const std::map<std::string, std::vector<Tensor>>& weights,
                    const std::string& file) {
  ImportedModel out;
  out.graph = std::make_unique<nn::Graph>();
  out.name = a.name;
  out.input_shape = a.input_shape;
  out.integer_input = a.integer_input;
  Builder b(*out.graph, file);
  Value input;
  input.node = out.graph->add_input("input");
  input.shape = a.input_shape;
  input.shape.insert(input.shape.begin(), 1);
  input.integer = a.integer_input;
  std::map<std::string, Value> values;
  Value last = input;
  for (const Layer& layer : a.layers) {
    if (layer.class_name == "InputLayer") {
      values[layer.name] = input;
      continue;
    }
    std::vector<Value> from;
    if (a.sequential) {
      from.push_back(last);
    } else {
      for (const auto& n : layer.inputs) {
        const auto it = values.find(n);
        if (it == values.end())
          fail(file, ": layer '", layer.name, "' reads '", n, "', not built before it");
        from.push_back(it->second);
      }
    }
    LayerSpec spec{layer.class_name, layer.name,        layer.config, {},
                   layer.scalar,     layer.scalar_first};
    if (const auto w = weights.find(layer.name); w != weights.end()) spec.weights = w->second;
    try {
      last = find_converter(layer.class_name)(b, spec, from);
    } catch (const Unsupported& e) {
      throw Unsupported(file + ": " + e.what());
    } catch (const Error& e) {
      fail(file, ": ", e.what());
    }
    values[layer.name] = last;
  }
  Value result = a.sequential ? last : values.at(a.output);
  result = b.keras_layout(result, "output/to_nhwc");
  out.graph->set_output(result.node);
  return out;
}

}  // namespace

bool looks_like_keras(const std::string& path) {
  if (has_zip_magic(path)) return zip_entry(path, "config.json").has_value();
  try {
    const Hdf5File h5 = Hdf5File::open(path);
    return h5.text_attribute("/", "model_config").has_value();
  } catch (const Error&) {
    return false;
  }
}

ImportedModel import_model(const std::string& path) {
  BDL_CHECK(std::ifstream(path).good(), path, ": cannot open the file");
  if (has_zip_magic(path)) {
    const auto config = zip_entry(path, "config.json");
    BDL_CHECK(config.has_value(), path, ": a zip archive without config.json (not a .keras file)");
    const auto weights_bytes = zip_entry(path, "model.weights.h5");
    BDL_CHECK(weights_bytes.has_value(), path, ": the archive has no model.weights.h5");
    const auto metadata = zip_entry(path, "metadata.json");
    const Hdf5File h5 = Hdf5File::from_memory(*weights_bytes, path + ": model.weights.h5");
    const Architecture a = read_architecture(parse_json(*config, path + ": config.json"), path);
    ImportedModel m = build(a, keras3_weights(h5), path);
    m.format = "Keras 3 archive (.keras)";
    if (metadata) m.keras_version = parse_json(*metadata, path).value("keras_version", "");
    return m;
  }
  BDL_CHECK(Hdf5File::is_hdf5(path), path,
            ": not a Keras model file (neither a .keras zip archive nor HDF5)");
  const Hdf5File h5 = Hdf5File::open(path);
  const auto config = h5.text_attribute("/", "model_config");
  BDL_CHECK(config.has_value(), path,
            ": an HDF5 file without a model_config (weights only, or not a Keras model)");
  const Architecture a = read_architecture(parse_json(*config, path + ": model_config"), path);
  ImportedModel m = build(a, hdf5_weights(h5), path);
  m.format = "Keras HDF5 (.h5)";
  m.keras_version = h5.text_attribute("/", "keras_version").value_or("");
  return m;
}

}  // namespace bdl::keras
