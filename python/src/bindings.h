#pragma once

// The parts of the extension module bdl._core, one function each.
#include <nanobind/nanobind.h>

#include <string>
#include <vector>

#include "bdl/core/tensor.h"

namespace bdl::python {

namespace nb = nanobind;

void bind_modules(nb::module_& m);   // Module, building from specs, losses, methods
void bind_files(nb::module_& m);     // Net, zoo, load, save, ONNX, summaries
void bind_training(nb::module_& m);  // train, predict, evaluate

// A Python sequence of integers as a shape, naming `what` when it is not one.
Shape shape_of(const nb::handle& sequence, const std::string& what);

}  // namespace bdl::python
