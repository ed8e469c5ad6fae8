#pragma once

// The parts of the extension module bdl._core, one function each.
#include <nanobind/nanobind.h>

namespace bdl::python {

namespace nb = nanobind;

void bind_modules(nb::module_& m);   // Module, building from specs, losses, methods
void bind_files(nb::module_& m);     // Net, zoo, load, save, ONNX, summaries
void bind_training(nb::module_& m);  // train, predict, evaluate
void bind_dist(nb::module_& m);      // GlooJoin, TcpRelay, join_relay, leave_world

}  // namespace bdl::python
