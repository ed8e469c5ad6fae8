#pragma once

#include <chrono>
#include <memory>

#include "bdl/dist/communicator.h"

namespace bdl::test {

// The world of a test run under mpirun (MPI) or under an environment launch
// (Gloo over TCP: RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT), made once per
// process; a silent peer fails the test after 30 s instead of hanging it.
inline dist::Communicator& world_comm() {
  static std::unique_ptr<dist::Communicator> comm = [] {
    auto c = dist::world();
    c->set_timeout(std::chrono::milliseconds(30000));
    return c;
  }();
  return *comm;
}

}  // namespace bdl::test
