// bdl._core: the C++ library for Python. The package bdl (python/bdl) builds its
// Keras-style API on these functions.
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <chrono>

#include "bdl/core/error.h"
#include "bdl/core/threads.h"
#include "bdl/core/version.h"
#include "bdl/dist/communicator.h"
#include "bdl/dist/gloo_communicator.h"
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
  // Joining workers from any launcher that can pass bytes between its tasks
  // (bdl.spark: BarrierTaskContext.allGather).
  nb::class_<bdl::dist::GlooJoin>(m, "GlooJoin")
      .def(
          "__init__",
          [](bdl::dist::GlooJoin* self, int rank, int size, const std::string& host,
             int64_t timeout_ms) {
            new (self) bdl::dist::GlooJoin(rank, size, host, std::chrono::milliseconds(timeout_ms));
          },
          nb::arg("rank"), nb::arg("size"), nb::arg("host"), nb::arg("timeout_ms"))
      .def_prop_ro("blob",
                   [](const bdl::dist::GlooJoin& j) {
                     const std::string& b = j.address_blob();
                     return nb::bytes(b.data(), b.size());
                   })
      .def(
          "connect",
          [](bdl::dist::GlooJoin& j, const std::vector<nb::bytes>& blobs, int64_t timeout_ms) {
            std::vector<std::string> bytes;
            bytes.reserve(blobs.size());
            for (const auto& b : blobs) bytes.emplace_back(b.c_str(), b.size());
            std::unique_ptr<bdl::dist::Communicator> comm;
            {
              nb::gil_scoped_release released;
              comm = j.connect(bytes);
            }
            comm->set_timeout(std::chrono::milliseconds(timeout_ms));
            bdl::dist::set_process_world(std::move(comm));
          },
          nb::arg("blobs"), nb::arg("timeout_ms"),
          "Connects to every worker and makes them this process's world.");
  m.def(
      "leave_world",
      [](bool farewell) {
        if (farewell) {
          // Every worker is done with the connections before any closes them:
          // a socket closed with data unread would reset its peer's.
          nb::gil_scoped_release released;
          try {
            bdl::dist::process_world().barrier();
          } catch (const bdl::Error&) {
          }
        }
        bdl::dist::set_process_world(nullptr);
      },
      nb::arg("farewell"),
      "Closes the connections of a joined world (after a barrier when farewell); the "
      "process's own world returns.");
  bdl::python::bind_modules(m);
  bdl::python::bind_files(m);
  bdl::python::bind_training(m);
}
