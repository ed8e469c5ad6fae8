#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string>

namespace bdl::dist {

enum class AllreduceOp { sum, min, max };

// The collectives and point-to-point transfers bdl needs from a distributed
// engine. MPI implements it for N processes; a size-1 implementation serves a
// program that was not started by mpirun or srun. Every wait has a deadline:
// when a peer sends nothing for timeout(), the call throws bdl::Error naming that
// peer, rather than hanging.
class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string describe() const = 0;

  // Non-blocking transfers of raw bytes; wait_all() completes every request
  // posted since the last wait_all().
  virtual void isend(const void* data, size_t bytes, int peer, int tag) = 0;
  virtual void irecv(void* data, size_t bytes, int peer, int tag) = 0;
  virtual void wait_all(const char* what) = 0;
  // Waits for the receives posted since the last wait_all() one by one, in the
  // order they were posted, calling on_received(index) as each arrives: the caller
  // reduces a chunk while later ones are still in flight.
  virtual void wait_receives(const char* what, const std::function<void(size_t)>& on_received) = 0;

  virtual void allreduce(std::span<double> values, AllreduceOp op) = 0;
  // Sum of float buffers across workers by the engine's own algorithm (MPI_Allreduce).
  virtual void allreduce_sum(std::span<float> values) = 0;
  virtual void broadcast(std::span<float> values, int root) = 0;
  // Rank root receives every worker's send buffer, rank-ordered, into recv (size() * send.size()).
  virtual void gather(std::span<const float> send, std::span<float> recv, int root) = 0;
  virtual void barrier() = 0;
  // Ends every process of the job with this exit code (MPI_Abort); never returns.
  [[noreturn]] virtual void abort(int code) = 0;
  // Whether abort() is the way a failed worker ends the job (MPI: the launcher
  // ends the others). Otherwise (Gloo) the worker abandons its connections and
  // its error goes on to the caller: the process may host more than this job (a
  // Spark task), and every peer's next transfer with it fails at once.
  virtual bool ends_job_on_error() const { return true; }
  // Closes this worker's connections; the communicator is unusable afterwards.
  virtual void abandon() {}

  void set_timeout(std::chrono::milliseconds timeout) { timeout_ = timeout; }
  std::chrono::milliseconds timeout() const { return timeout_; }

 protected:
  std::chrono::milliseconds timeout_{60000};
};

// A communicator of one worker: collectives are identities.
std::unique_ptr<Communicator> local_communicator();

// True when this process was started by mpirun/mpiexec or srun.
bool launched_by_mpi();

// How long MPI's start-up may wait for every process of the job (120 s by
// default): past it, the process exits with an error rather than hang (MPI_Init
// has no deadline of its own). Set it before the first mpi_world().
void set_start_timeout(std::chrono::milliseconds timeout);
std::chrono::milliseconds start_timeout();

// The world of an MPI launch (initialises MPI); finalised when the last one is destroyed.
std::unique_ptr<Communicator> mpi_world();

// mpi_world() when launched by MPI (mpirun, srun); env_world() (Gloo over TCP,
// gloo_communicator.h) when the environment names RANK, WORLD_SIZE, MASTER_ADDR
// and MASTER_PORT, as torchrun and its peers do; otherwise local_communicator().
std::unique_ptr<Communicator> world();

// This process's world: what jobs run on when the caller names no communicator.
// Made by world() at the first call and kept until the process exits (MPI can be
// initialised only once per process), unless set_process_world() put another
// in its place.
Communicator& process_world();

// Makes `world` this process's world (a Spark task joins its peers for one
// training run); nullptr goes back to the one world() made. Not while a job
// runs on the current one.
void set_process_world(std::unique_ptr<Communicator> world);

}  // namespace bdl::dist
