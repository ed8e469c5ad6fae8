// bdl._core's distributed side: joining Gloo workers from any launcher that can
// pass bytes between its tasks (bdl.spark), and the driver's relay.
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <chrono>

#include "bdl/core/error.h"
#include "bdl/dist/communicator.h"
#include "bdl/dist/gloo_communicator.h"
#include "bindings.h"

namespace bdl::python {

namespace {

void bind_relay(nb::module_& m) {
  // bdl.spark's rendezvous on the driver: no round through Spark's barrier
  // coordinator (whose allGather answers once a second).
  nb::class_<bdl::dist::TcpRelay>(m, "TcpRelay")
      .def(
          "__init__",
          [](bdl::dist::TcpRelay* self, int size, int64_t timeout_ms) {
            new (self) bdl::dist::TcpRelay(size, std::chrono::milliseconds(timeout_ms));
          },
          nb::arg("size"), nb::arg("timeout_ms"))
      .def_prop_ro("port", &bdl::dist::TcpRelay::port)
      .def("serve", &bdl::dist::TcpRelay::serve, nb::call_guard<nb::gil_scoped_release>());
  m.def(
      "join_relay",
      [](const std::string& host, int port, int rank, int size, const std::string& own_host,
         int64_t start_timeout_ms, int64_t timeout_ms) {
        nb::gil_scoped_release released;
        const std::chrono::milliseconds start(start_timeout_ms);
        std::unique_ptr<bdl::dist::GlooJoin> join;
        const auto blobs = bdl::dist::tcp_join(
            host, port, rank, size,
            [&](const std::string& local) {
              join = std::make_unique<bdl::dist::GlooJoin>(
                  rank, size, own_host.empty() ? local : own_host, start);
              return join->address_blob();
            },
            start);
        auto comm = join->connect(blobs);
        comm->set_timeout(std::chrono::milliseconds(timeout_ms));
        bdl::dist::set_process_world(std::move(comm));
      },
      nb::arg("host"), nb::arg("port"), nb::arg("rank"), nb::arg("size"), nb::arg("own_host"),
      nb::arg("start_timeout_ms"), nb::arg("timeout_ms"),
      "Joins the workers of a TcpRelay at host:port over Gloo and makes them this process's "
      "world: every worker within start_timeout_ms, then a silent peer is lost after "
      "timeout_ms.");
}

}  // namespace

void bind_dist(nb::module_& m) {
  bind_relay(m);
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
}

}  // namespace bdl::python
