// bdl._core: the C++ library for Python. The package bdl (python/bdl) builds its
// Keras-style API on these functions.
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>

#include "bdl/core/error.h"
#include "bdl/core/threads.h"
#include "bdl/core/version.h"
#include "bdl/dist/communicator.h"
#include "bindings.h"

namespace nb = nanobind;

NB_MODULE(_core, m) {
  m.doc() = "bdl's C++ core (use the package bdl)";
  // C++ errors arrive as bdl.Error with the library's message.
  const nb::exception<bdl::Error> error_type(m, "Error", PyExc_RuntimeError);
  m.def("version", [] { return bdl::version(); });
  m.def(
      "set_num_threads", [](int threads) { bdl::set_num_threads(threads, "threads"); },
      nb::arg("threads"), "Kernel threads of this process (0: one per core).");
  m.def("num_threads", [] { return bdl::num_threads(); });
  m.def(
      "world",
      [] {
        bdl::dist::Communicator& comm = bdl::dist::process_world();
        return nb::make_tuple(comm.rank(), comm.size());
      },
      "(rank, workers) of this process: MPI's under mpirun or srun, Gloo's under an "
      "environment launch (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT) or a Spark barrier "
      "task, else (0, 1).");
  bdl::python::bind_dist(m);
  bdl::python::bind_modules(m);
  bdl::python::bind_files(m);
  bdl::python::bind_training(m);
}
