#include "bdl/dist/communicator.h"

#include <atomic>
#include <cstdlib>

#include "bdl/core/error.h"

namespace bdl::dist {
namespace {

class LocalCommunicator : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string describe() const override { return "1 worker (no MPI)"; }
  void isend(const void*, size_t, int peer, int) override { no_peer(peer); }
  void irecv(void*, size_t, int peer, int) override { no_peer(peer); }
  void wait_all(const char*) override {}
  void wait_receives(const char*, const std::function<void(size_t)>&) override {}
  void allreduce(std::span<double>, AllreduceOp) override {}
  void allreduce_sum(std::span<float>) override {}
  void broadcast(std::span<float>, int) override {}
  void gather(std::span<const float> send, std::span<float> recv, int) override {
    BDL_CHECK(recv.size() == send.size(), "gather: receive buffer of ", recv.size(),
              " for 1 worker sending ", send.size());
    std::copy(send.begin(), send.end(), recv.begin());
  }
  void barrier() override {}
  [[noreturn]] void abort(int code) override { std::exit(code); }

 private:
  [[noreturn]] static void no_peer(int peer) {
    fail("a single worker has no peer ", peer, " to exchange with");
  }
};

}  // namespace

std::unique_ptr<Communicator> local_communicator() { return std::make_unique<LocalCommunicator>(); }

bool launched_by_mpi() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS"}) {
    if (std::getenv(var)) return true;
  }
  // srun starts tasks with SLURM_NTASKS set; a plain sbatch script also has it,
  // but only srun sets SLURM_STEP_ID.
  return std::getenv("SLURM_STEP_ID") && std::getenv("SLURM_NTASKS");
}

namespace {
std::atomic<int64_t> g_start_timeout_ms{120000};
}  // namespace

void set_start_timeout(std::chrono::milliseconds timeout) {
  BDL_CHECK(timeout.count() >= 100, "start-up timeout: at least 100 ms, got ", timeout.count());
  g_start_timeout_ms = timeout.count();
}

std::chrono::milliseconds start_timeout() { return std::chrono::milliseconds(g_start_timeout_ms); }

std::unique_ptr<Communicator> world() {
  return launched_by_mpi() ? mpi_world() : local_communicator();
}

Communicator& process_world() {
  static const std::unique_ptr<Communicator> comm = world();
  return *comm;
}

}  // namespace bdl::dist
