// Models with what jobs know about them (job::Model as Net): the zoo, model
// files in and out (bdl's format, ONNX), and TensorBoard event files.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "arrays.h"
#include "bdl/io/event_file.h"
#include "bdl/io/model_file.h"
#include "bdl/job/model_source.h"
#include "bdl/models/zoo.h"
#include "bdl/onnx/export.h"
#include "bindings.h"

namespace bdl::python {
namespace {

using NormalizePair = std::optional<std::pair<float, float>>;

NormalizePair normalize_of(const job::Model& m) {
  if (!m.normalize) return std::nullopt;
  return std::pair{m.normalize->mean, m.normalize->std};
}

void set_normalize(job::Model& m, const NormalizePair& n) {
  if (n) {
    m.normalize = data::Normalize{n->first, n->second};
  } else {
    m.normalize.reset();
  }
}

// A module built in Python with its sample shape, as a job takes it.
job::Model make_net(std::shared_ptr<nn::Module> module, const Shape& sample_shape,
                    const std::string& description) {
  BDL_CHECK(module != nullptr, "Net: no module");
  job::ModelSpec spec;
  spec.module = std::move(module);
  spec.sample_shape = sample_shape;
  spec.description = description;
  return job::build_model(spec);
}

void bind_net(nb::module_& m) {
  nb::class_<job::Model>(m, "Net", "A model with its input shape and what its file records.")
      .def(nb::new_(&make_net), nb::arg("module"), nb::arg("sample_shape"),
           nb::arg("description") = "")
      .def_rw("module", &job::Model::module)
      .def_rw("name", &job::Model::name)
      .def_rw("description", &job::Model::description)
      .def_rw("sample_shape", &job::Model::sample_shape)
      .def_ro("outputs", &job::Model::outputs)
      .def_ro("vocabulary", &job::Model::vocabulary)
      .def_ro("from_file", &job::Model::from_file)
      .def_ro("onnx_inputs", &job::Model::onnx_inputs)
      .def_ro("onnx_outputs", &job::Model::onnx_outputs)
      .def_prop_rw("normalize", &normalize_of, &set_normalize);
}

job::Model zoo(const std::string& name, int64_t classes, std::optional<int64_t> image_size) {
  BDL_CHECK(!job::is_model_file(name), "zoo: '", name, "' is a file; use bdl.load");
  job::ModelSpec spec;
  spec.name = name;
  spec.classes = classes;
  spec.image_size = image_size;
  return job::build_model(spec, 0);
}

void save(job::Model& net, const std::string& path) {
  nb::gil_scoped_release released;
  io::save_model(*net.module, path, net.metadata());
}

void export_onnx(job::Model& net, const std::string& path) {
  BDL_CHECK(!net.sample_shape.empty(), path, ": the model's input shape is not known");
  onnx::ExportOptions options;
  options.input_shape = net.sample_shape;
  nb::gil_scoped_release released;
  onnx::export_model(*net.module, path, options);
}

void bind_event_file(nb::module_& m) {
  nb::class_<io::EventFile>(m, "EventFile", "A TensorBoard event file in a directory.")
      .def(nb::init<const std::string&>(), nb::arg("dir"))
      .def("scalar", &io::EventFile::scalar, nb::arg("tag"), nb::arg("step"), nb::arg("value"))
      .def(
          "histogram",
          [](io::EventFile& f, const std::string& tag, int64_t step, const Array& values) {
            const Tensor t = borrow(values, "values");
            BDL_CHECK(t.dtype() == DType::f32, "values: float32 expected");
            f.histogram(tag, step, t.span_f32());
          },
          nb::arg("tag"), nb::arg("step"), nb::arg("values"))
      .def("flush", &io::EventFile::flush)
      .def_prop_ro("path", &io::EventFile::path);
}

}  // namespace

void bind_files(nb::module_& m) {
  bind_net(m);
  m.def("zoo", &zoo, nb::arg("name"), nb::arg("classes") = 0, nb::arg("image_size") = nb::none());
  m.def("zoo_names", [] {
    std::vector<std::string> names;
    for (const auto& entry : models::zoo()) names.push_back(entry.name);
    return names;
  });
  m.def(
      "load",
      [](const std::string& path) {
        nb::gil_scoped_release released;
        return job::load_model(path);
      },
      nb::arg("path"));
  m.def(
      "import_onnx",
      [](const std::string& path) {
        nb::gil_scoped_release released;
        return job::import_onnx(path);
      },
      nb::arg("path"));
  m.def("save", &save, nb::arg("net"), nb::arg("path"));
  m.def("export_onnx", &export_onnx, nb::arg("net"), nb::arg("path"));
  bind_event_file(m);
}

}  // namespace bdl::python
