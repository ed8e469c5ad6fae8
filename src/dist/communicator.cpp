#include "bdl/dist/communicator.h"

#include <atomic>
#include <cstdlib>
#include <mutex>

#include "bdl/core/error.h"
#include "bdl/dist/gloo_communicator.h"

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
  if (launched_by_mpi()) return mpi_world();
  if (launched_by_env()) return env_world();
  return local_communicator();
}

namespace {
std::mutex g_world_mutex;
std::unique_ptr<Communicator> g_launch_world;  // world()'s, made once
std::unique_ptr<Communicator> g_set_world;     // set_process_world()'s
}  // namespace

Communicator& process_world() {
  std::lock_guard<std::mutex> lock(g_world_mutex);
  if (g_set_world) return *g_set_world;
  if (!g_launch_world) g_launch_world = world();
  return *g_launch_world;
}

void set_process_world(std::unique_ptr<Communicator> world) {
  std::lock_guard<std::mutex> lock(g_world_mutex);
  g_set_world = std::move(world);
}

}  // namespace bdl::dist
