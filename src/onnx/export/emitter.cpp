#include "onnx/export/emitter.h"

namespace bdl::onnx::exporting {

std::string Emitter::fresh(const std::string& hint) {
  const std::string base = hint.empty() ? "v" : hint;
  std::string name = base;
  while (!used_.insert(name).second) name = base + "_" + std::to_string(++counter_);
  return name;
}

std::string Emitter::initializer(const Tensor& t, const std::string& hint) {
  std::string name = fresh(hint);
  auto* p = g_.add_initializer();
  p->set_name(name);
  for (int64_t d : t.shape()) p->add_dims(d);
  const Tensor c = t.contiguous();
  const bool integer = c.dtype() == DType::i64;
  p->set_data_type(integer ? ::onnx::TensorProto::INT64 : ::onnx::TensorProto::FLOAT);
  const size_t bytes = static_cast<size_t>(c.numel()) * (integer ? 8 : 4);
  if (bytes > 0) p->set_raw_data(c.raw_data(), bytes);
  return name;
}

std::string Emitter::ints(const std::vector<int64_t>& v, const std::string& hint) {
  return initializer(
      Tensor::from_vector(std::span<const int64_t>(v), {static_cast<int64_t>(v.size())}), hint);
}

std::string Emitter::scalar(float v, const std::string& hint) {
  return initializer(Tensor::full({}, v), hint);
}

::onnx::NodeProto& Emitter::node(const std::string& op, const std::vector<std::string>& inputs,
                                 const std::string& hint, std::string* output) {
  std::vector<std::string> outputs;
  auto& n = node_with_outputs(op, inputs, hint, &outputs, 1);
  *output = outputs[0];
  return n;
}

::onnx::NodeProto& Emitter::node_with_outputs(const std::string& op,
                                              const std::vector<std::string>& inputs,
                                              const std::string& hint,
                                              std::vector<std::string>* outputs, size_t count) {
  auto* n = g_.add_node();
  n->set_op_type(op);
  n->set_name(fresh(hint + "/" + op));
  for (const auto& i : inputs) n->add_input(i);
  outputs->clear();
  for (size_t i = 0; i < count; ++i) {
    outputs->push_back(fresh(hint + (count == 1 ? "/out" : "/out" + std::to_string(i))));
    n->add_output(outputs->back());
  }
  return *n;
}

std::string Emitter::op(const std::string& type, const std::vector<std::string>& inputs,
                        const std::string& hint) {
  std::string out;
  node(type, inputs, hint, &out);
  return out;
}

void Emitter::attr(::onnx::NodeProto& n, const std::string& name, int64_t v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(::onnx::AttributeProto::INT);
  a->set_i(v);
}

void Emitter::attr(::onnx::NodeProto& n, const std::string& name, float v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(::onnx::AttributeProto::FLOAT);
  a->set_f(v);
}

void Emitter::attr(::onnx::NodeProto& n, const std::string& name, const std::string& v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(::onnx::AttributeProto::STRING);
  a->set_s(v);
}

void Emitter::attr(::onnx::NodeProto& n, const std::string& name, const std::vector<int64_t>& v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(::onnx::AttributeProto::INTS);
  for (int64_t x : v) a->add_ints(x);
}

std::string Emitter::emit(nn::Module& m, const Inputs& in) {
  const auto& table = exporters();
  const auto it = table.find(m.type());
  if (it == table.end()) {
    fail(in.path.empty() ? m.label() : in.path, ": a ", m.type(), " layer has no ONNX export");
  }
  return it->second(*this, m, in);
}

Tensor tensor_of(nn::Module& m, const std::string& name) {
  for (auto& p : m.parameters()) {
    if (p.name == name) return p.value->contiguous();
  }
  for (auto& b : m.buffers()) {
    if (b.name == name) return b.value->contiguous();
  }
  fail(m.label(), ": no tensor named ", name);
}

std::string child_path(const std::string& path, const nn::Module& child, size_t index) {
  const std::string own = child.name().empty() ? std::to_string(index) : child.name();
  return path.empty() ? own : path + "." + own;
}

const ExporterTable& exporters() {
  static const ExporterTable table = [] {
    ExporterTable t;
    add_container_exporters(t);
    add_activation_exporters(t);
    add_layer_exporters(t);
    add_tensor_exporters(t);
    add_recurrent_exporters(t);
    add_attention_exporters(t);
    return t;
  }();
  return table;
}

}  // namespace bdl::onnx::exporting
