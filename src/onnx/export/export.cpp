#include "bdl/onnx/export.h"

#include <onnx/onnx_pb.h>

#include "bdl/core/file.h"
#include "onnx/export/emitter.h"

namespace bdl::onnx {
namespace {

void set_shape(::onnx::ValueInfoProto& v, const std::string& name, const Shape& sample) {
  v.set_name(name);
  auto* t = v.mutable_type()->mutable_tensor_type();
  t->set_elem_type(::onnx::TensorProto::FLOAT);
  auto* s = t->mutable_shape();
  s->add_dim()->set_dim_param("N");
  for (int64_t d : sample) s->add_dim()->set_dim_value(d);
}

}  // namespace

std::string export_model_bytes(nn::Module& model, const ExportOptions& options) {
  BDL_CHECK(!options.input_shape.empty(), "export: the input shape of one sample is needed");
  ::onnx::ModelProto proto;
  proto.set_ir_version(7);
  proto.set_producer_name("bdl");
  auto* opset = proto.add_opset_import();
  opset->set_domain("");
  opset->set_version(kExportOpset);
  auto* g = proto.mutable_graph();
  g->set_name(options.graph_name);
  exporting::Emitter e(*g);
  const std::string input = e.fresh("input");
  Shape shape{1};
  shape.insert(shape.end(), options.input_shape.begin(), options.input_shape.end());
  const std::string last = e.emit(model, {{input}, {shape}, ""});
  // The graph output gets a plain name through an Identity.
  const std::string output = e.fresh("output");
  auto* n = g->add_node();
  n->set_op_type("Identity");
  n->set_name("output");
  n->add_input(last);
  n->add_output(output);
  set_shape(*g->add_input(), input, options.input_shape);
  const Shape out = model.output_shape(shape);
  set_shape(*g->add_output(), output, Shape(out.begin() + 1, out.end()));
  std::string bytes;
  BDL_CHECK(proto.SerializeToString(&bytes), "export: the model is over protobuf's 2 GiB limit");
  return bytes;
}

void export_model(nn::Module& model, const std::string& path, const ExportOptions& options) {
  const std::string bytes = export_model_bytes(model, options);
  AtomicFile file(path);
  file.write(bytes.data(), bytes.size());
  file.commit();
}

}  // namespace bdl::onnx
