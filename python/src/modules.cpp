// Modules: built from specs (a type, its options, its children), run forward
// and backward on arrays, their parameters in and out; losses and methods for
// a training loop written in Python.
#include <nanobind/stl/pair.h>
#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <algorithm>
#include <memory>

#include "arrays.h"
#include "bdl/core/error.h"
#include "bdl/job/summary.h"
#include "bdl/job/train.h"
#include "bdl/nn/flat_parameters.h"
#include "bdl/nn/layer.h"
#include "bdl/nn/losses/by_name.h"
#include "bdl/nn/multi_input.h"
#include "bindings.h"

namespace bdl::python {
namespace {

using nn::Attributes;

Attributes::Value value_of(const nb::handle& v, const std::string& type, const std::string& key) {
  if (nb::isinstance<nb::bool_>(v)) return int64_t{nb::cast<bool>(v)};
  if (nb::isinstance<nb::int_>(v)) return nb::cast<int64_t>(v);
  if (nb::isinstance<nb::float_>(v)) return nb::cast<double>(v);
  if (nb::isinstance<nb::str>(v)) return nb::cast<std::string>(v);
  if (nb::isinstance<nb::list>(v) || nb::isinstance<nb::tuple>(v)) {
    const auto items = nb::cast<std::vector<nb::handle>>(v);
    const auto all = [&](auto is) { return std::all_of(items.begin(), items.end(), is); };
    if (all([](nb::handle h) { return nb::isinstance<nb::int_>(h); }))
      return nb::cast<std::vector<int64_t>>(v);
    if (all([](nb::handle h) {
          return nb::isinstance<nb::float_>(h) || nb::isinstance<nb::int_>(h);
        }))
      return nb::cast<std::vector<double>>(v);
    if (all([](nb::handle h) { return nb::isinstance<nb::str>(h); }))
      return nb::cast<std::vector<std::string>>(v);
  }
  fail(type, ": option '", key, "' must be a number, a string or a list of them, got ",
       nb::cast<std::string>(nb::str(v.type().attr("__name__"))));
}

nb::object python_value(const Attributes::Value& value) {
  return std::visit([](const auto& v) -> nb::object { return nb::cast(v); }, value);
}

std::unique_ptr<nn::Module> build(const nb::handle& spec) {
  const auto type = nb::cast<std::string>(spec[0]);
  const auto options = nb::cast<nb::dict>(spec[1]);
  std::vector<std::unique_ptr<nn::Module>> children;
  for (nb::handle child : nb::cast<nb::list>(spec[2])) children.push_back(build(child));
  const std::vector<std::string> known = nn::module_options(type);
  Attributes attributes(type);
  for (auto [key, value] : options) {
    const auto name = nb::cast<std::string>(key);
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      fail(type, ": no option '", name, "' (it takes: ", list.empty() ? "none" : list, ")");
    }
    attributes.put(name, value_of(value, type, name));
  }
  std::unique_ptr<nn::Module> module;
  {
    const nn::AbsentFieldsKeepDefaults defaults;  // keywords left out keep their defaults
    module = nn::create_module(type, attributes, std::move(children));
  }
  const auto name = nb::cast<std::string>(spec[3]);
  if (!name.empty()) module->set_name(name);
  return module;
}

// The module's output for an input, copied out of the module's buffer. The
// input is a Tensor object the caller keeps until backward: containers (Graph)
// hold on to their input between the two.
nb::object forward(nn::Module& module, const Tensor& input) {
  Tensor out;
  {
    nb::gil_scoped_release released;
    out = detached_copy(module.forward(input));
  }
  return to_numpy(std::move(out));
}

nb::object forward_many(nn::Module& module, const std::vector<const Tensor*>& inputs) {
  auto* multi = dynamic_cast<nn::MultiInputModule*>(&module);
  BDL_CHECK(multi != nullptr, module.label(), " takes one input, got ", inputs.size());
  Tensor out;
  {
    nb::gil_scoped_release released;
    out = detached_copy(multi->forward_many(inputs));
  }
  return to_numpy(std::move(out));
}

nb::object backward(nn::Module& module, const Tensor& input, const Array& grad) {
  const Tensor grad_output = borrow(grad, "grad_output");
  Tensor out;
  {
    nb::gil_scoped_release released;
    const Tensor& g = module.backward(input, grad_output);
    if (g.defined()) out = detached_copy(g);
  }
  if (!out.defined()) return nb::none();
  return to_numpy(std::move(out));
}

// (name, copy) for every parameter (or its gradient).
nb::list parameters(nn::Module& module, bool grads) {
  nb::list out;
  for (const nn::Parameter& p : module.parameters()) {
    const Tensor& t = grads ? *p.grad : *p.value;
    out.append(nb::make_tuple(p.name, t.defined() ? to_numpy(detached_copy(t)) : nb::none()));
  }
  return out;
}

void set_parameter(nn::Module& module, const std::string& name, const Array& value) {
  for (const nn::Parameter& p : module.parameters()) {
    if (p.name != name) continue;
    const Tensor source = borrow(value, name);
    BDL_CHECK(source.dtype() == DType::f32, name, ": float32 values expected");
    BDL_CHECK(source.shape() == p.value->shape(), name, ": shape ", source.shape_str(),
              " given, the parameter is ", p.value->shape_str());
    p.value->copy_from(source);
    return;
  }
  fail(module.label(), ": no parameter '", name, "'");
}

nb::dict attributes(nn::Module& module) {
  Attributes out(module.type());
  module.attributes(out);
  nb::dict d;
  for (const auto& [name, value] : out.entries()) d[name.c_str()] = python_value(value);
  return d;
}

nb::list summary_rows(nn::Module& module, const Shape& input) {
  nb::list rows;
  for (const job::LayerRow& r : job::summary(module, input)) {
    nb::dict row;
    row["path"] = r.path;
    row["description"] = r.description;
    row["output"] = nb::cast(r.output);
    row["parameters"] = r.parameters;
    row["flops"] = r.flops;
    rows.append(row);
  }
  return rows;
}

void bind_tensor_class(nb::module_& m) {
  nb::class_<Tensor>(m, "Tensor",
                     "An array as the library holds it (shares the NumPy array's memory).")
      .def_static(
          "from_array", [](const Array& a, const std::string& what) { return borrow(a, what); },
          nb::arg("array"), nb::arg("what") = "x")
      .def_prop_ro("shape", [](const Tensor& t) { return t.shape(); })
      .def("numpy", [](const Tensor& t) { return to_numpy(t); });
}

void bind_module_class(nb::module_& m) {
  nb::class_<nn::Module>(m, "Module", "A built module (layer or container) of the C++ library.")
      .def_prop_ro("type", &nn::Module::type)
      .def_prop_rw("name", &nn::Module::name, &nn::Module::set_name)
      .def("describe", &nn::Module::describe)
      .def("attributes", &attributes)
      .def("forward", &forward, nb::arg("x"))
      .def("forward_many", &forward_many, nb::arg("xs"))
      .def("backward", &backward, nb::arg("x"), nb::arg("grad_output"))
      .def("parameters", [](nn::Module& self) { return parameters(self, false); })
      .def("gradients", [](nn::Module& self) { return parameters(self, true); })
      .def("set_parameter", &set_parameter, nb::arg("name"), nb::arg("value"))
      .def("output_shape", &nn::Module::output_shape, nb::arg("input_shape"))
      .def("flops", &nn::Module::flops, nb::arg("input_shape"))
      .def("zero_grad", &nn::Module::zero_grad)
      .def("train", &nn::Module::train, nb::arg("on") = true)
      .def("eval", &nn::Module::eval)
      .def_prop_ro("training", &nn::Module::is_training)
      .def("seed", &nn::Module::seed, nb::arg("seed"))
      .def("children", &nn::Module::children, nb::rv_policy::reference_internal)
      .def("parameter_count", [](nn::Module& self) { return job::parameter_count(self); })
      .def("summary_rows", &summary_rows, nb::arg("input_shape"))
      .def("summary", &job::format_summary, nb::arg("input_shape"));
}

void bind_losses_and_methods(nb::module_& m) {
  nb::class_<nn::Criterion>(m, "Criterion",
                            "A loss: forward gives the value, backward its gradient.")
      .def_prop_ro("type", &nn::Criterion::type)
      .def_prop_ro("takes_class_indices", &nn::Criterion::takes_class_indices)
      .def("forward",
           [](nn::Criterion& c, const Array& output, const Array& target) {
             const Tensor o = borrow(output, "output"), t = borrow(target, "target");
             nb::gil_scoped_release released;
             return c.forward(o, t);
           })
      .def("backward", [](nn::Criterion& c, const Array& output, const Array& target) {
        const Tensor o = borrow(output, "output"), t = borrow(target, "target");
        Tensor out;
        {
          nb::gil_scoped_release released;
          out = detached_copy(c.backward(o, t));
        }
        return to_numpy(std::move(out));
      });
  m.def(
      "make_criterion",
      [](const std::string& name) {
        return std::shared_ptr<nn::Criterion>(nn::make_criterion(name));
      },
      nb::arg("name"));
  nb::class_<optim::OptimMethod>(m, "Method", "An optimisation method over a model's parameters.")
      .def("describe", &optim::OptimMethod::describe)
      .def_prop_rw("learning_rate", &optim::OptimMethod::learning_rate,
                   &optim::OptimMethod::set_learning_rate)
      .def(
          "step",
          [](optim::OptimMethod& method, nn::Module& model) {
            nb::gil_scoped_release released;
            nn::FlatParameters flat = nn::compact(model);
            if (flat.numel() == 0) return;
            method.step(flat.weights.span_f32(), flat.grads.span_f32());
          },
          nb::arg("model"), "Updates the model's parameters from their gradients.");
  m.def(
      "make_method",
      [](const std::string& name, double lr, double momentum, double weight_decay) {
        job::MethodSpec spec;
        spec.name = name;
        spec.lr = lr;
        spec.momentum = momentum;
        spec.weight_decay = weight_decay;
        return job::make_method(spec, 1);
      },
      nb::arg("name"), nb::arg("lr"), nb::arg("momentum"), nb::arg("weight_decay"));
}

}  // namespace

void bind_modules(nb::module_& m) {
  bind_tensor_class(m);
  bind_module_class(m);
  m.def(
      "build", [](const nb::handle& spec) { return std::shared_ptr<nn::Module>(build(spec)); },
      nb::arg("spec"), "A module from (type, options, children, name).");
  m.def(
      "output_shape",
      [](const nb::handle& spec, const Shape& input) {
        const nn::SkipInitialisation untouched;  // built only to ask: weights stay unwritten
        return build(spec)->output_shape(input);
      },
      nb::arg("spec"), nb::arg("input_shape"),
      "The output shape of the module a spec describes, without initialising its weights.");
  m.def(
      "output_shape_many",
      [](const nb::handle& spec, const std::vector<Shape>& inputs) {
        const nn::SkipInitialisation untouched;
        std::unique_ptr<nn::Module> module = build(spec);
        auto* multi = dynamic_cast<nn::MultiInputModule*>(module.get());
        BDL_CHECK(multi != nullptr, module->label(), " takes one input, got ", inputs.size());
        return multi->output_shape_many(inputs);
      },
      nb::arg("spec"), nb::arg("input_shapes"));
  m.def("module_types", &nn::module_types);
  m.def("module_options", &nn::module_options, nb::arg("type"));
  bind_losses_and_methods(m);
}

}  // namespace bdl::python
