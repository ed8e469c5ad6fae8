#include <mpi.h>
#include <sched.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#include "bdl/core/error.h"
#include "bdl/dist/communicator.h"

namespace bdl::dist {
namespace {

// MPI messages count in ints; bdl sends at most this many bytes per message.
constexpr size_t kMaxMessageBytes = size_t{1} << 30;
// The tags of gather()'s and broadcast()'s messages: apart from the sync's own transfers.
constexpr int kGatherTag = 0x6A7;
constexpr int kBroadcastTag = 0x6A8;

std::mutex g_init_mutex;
int g_users = 0;

void check_mpi(int code, const char* what) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  fail(what, ": MPI error: ", std::string(text, static_cast<size_t>(length)));
}

MPI_Op op_of(AllreduceOp op) {
  switch (op) {
    case AllreduceOp::sum:
      return MPI_SUM;
    case AllreduceOp::min:
      return MPI_MIN;
    case AllreduceOp::max:
      return MPI_MAX;
  }
  return MPI_SUM;
}

// MPI_Init waits for every process of the job, and has no deadline of its own:
// a watchdog ends this process when it has not returned in time (mpirun then
// ends the others).
void initialise_within(std::chrono::milliseconds timeout) {
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  std::thread watchdog([&] {
    std::unique_lock<std::mutex> lock(m);
    if (cv.wait_for(lock, timeout, [&] { return done; })) return;
    std::fprintf(stderr,
                 "bdl: error: MPI start-up did not finish within %lld ms: a worker did not start "
                 "or cannot reach the others\n",
                 static_cast<long long>(timeout.count()));
    std::fflush(stderr);
    std::_Exit(1);
  });
  int provided = 0;
  const int rc = MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
  {
    std::lock_guard<std::mutex> lock(m);
    done = true;
  }
  cv.notify_one();
  watchdog.join();
  check_mpi(rc, "MPI_Init");
}

class MpiCommunicator : public Communicator {
 public:
  MpiCommunicator() {
    std::lock_guard<std::mutex> lock(g_init_mutex);
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized) initialise_within(start_timeout());
    ++g_users;
    // Errors come back as codes that bdl turns into exceptions naming the operation.
    MPI_Comm_dup(MPI_COMM_WORLD, &comm_);
    MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
  }

  ~MpiCommunicator() override {
    std::lock_guard<std::mutex> lock(g_init_mutex);
    MPI_Comm_free(&comm_);
    if (--g_users == 0) {
      int finalized = 0;
      MPI_Finalized(&finalized);
      if (!finalized) MPI_Finalize();
    }
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string describe() const override {
    char name[MPI_MAX_PROCESSOR_NAME];
    int length = 0;
    MPI_Get_processor_name(name, &length);
    return detail::concat(size_, " workers over MPI (rank ", rank_, " on ",
                          std::string(name, static_cast<size_t>(length)), ")");
  }

  void isend(const void* data, size_t bytes, int peer, int tag) override {
    BDL_CHECK(bytes <= kMaxMessageBytes, "isend: message of ", bytes, " bytes");
    MPI_Request r;
    check_mpi(MPI_Isend(data, static_cast<int>(bytes), MPI_BYTE, peer, tag, comm_, &r),
              "MPI_Isend");
    sends_.push_back({r, peer});
  }

  void irecv(void* data, size_t bytes, int peer, int tag) override {
    BDL_CHECK(bytes <= kMaxMessageBytes, "irecv: message of ", bytes, " bytes");
    MPI_Request r;
    check_mpi(MPI_Irecv(data, static_cast<int>(bytes), MPI_BYTE, peer, tag, comm_, &r),
              "MPI_Irecv");
    receives_.push_back({r, peer});
  }

  void wait_receives(const char* what, const std::function<void(size_t)>& on_received) override {
    for (size_t i = 0; i < receives_.size(); ++i) {
      wait_one(receives_[i], what, "from");
      on_received(i);
    }
    receives_.clear();
  }

  void wait_all(const char* what) override {
    for (auto& r : receives_) wait_one(r, what, "from");
    for (auto& s : sends_) wait_one(s, what, "to");
    receives_.clear();
    sends_.clear();
  }

  void allreduce(std::span<double> values, AllreduceOp op) override {
    MPI_Request r;
    check_mpi(MPI_Iallreduce(MPI_IN_PLACE, values.data(), static_cast<int>(values.size()),
                             MPI_DOUBLE, op_of(op), comm_, &r),
              "MPI_Iallreduce");
    Pending p{r, -1};
    wait_one(p, "allreduce of metrics", "with");
  }

  void allreduce_sum(std::span<float> values) override {
    for (size_t first = 0; first < values.size(); first += kMaxMessageBytes / 4) {
      const size_t count = std::min(values.size() - first, kMaxMessageBytes / 4);
      MPI_Request r;
      check_mpi(MPI_Iallreduce(MPI_IN_PLACE, values.data() + first, static_cast<int>(count),
                               MPI_FLOAT, MPI_SUM, comm_, &r),
                "MPI_Iallreduce");
      Pending p{r, -1};
      wait_one(p, "MPI_Allreduce of gradients", "with");
    }
  }

  // Point to point rather than MPI_Ibcast, so that a root left waiting names
  // the rank that took nothing (the driver sync's broadcast of weights).
  void broadcast(std::span<float> values, int root) override {
    for (size_t first = 0; first < values.size(); first += kMaxMessageBytes / 4) {
      const size_t count = std::min(values.size() - first, kMaxMessageBytes / 4);
      float* chunk = values.data() + first;
      if (rank_ != root) {
        Pending p{MPI_REQUEST_NULL, root};
        check_mpi(MPI_Irecv(chunk, static_cast<int>(count), MPI_FLOAT, root, kBroadcastTag, comm_,
                            &p.request),
                  "MPI_Irecv");
        wait_one(p, "broadcast", "from");
        continue;
      }
      std::vector<Pending> to;
      for (int peer = 0; peer < size_; ++peer) {
        if (peer == root) continue;
        to.push_back({MPI_REQUEST_NULL, peer});
        check_mpi(MPI_Isend(chunk, static_cast<int>(count), MPI_FLOAT, peer, kBroadcastTag, comm_,
                            &to.back().request),
                  "MPI_Isend");
      }
      for (auto& p : to) wait_one(p, "broadcast", "to");
    }
  }

  // Point to point rather than MPI_Igather, so that a root left waiting names
  // the rank that sent nothing (the driver sync's gather of gradients).
  void gather(std::span<const float> send, std::span<float> recv, int root) override {
    BDL_CHECK(rank_ != root || recv.size() == send.size() * static_cast<size_t>(size_),
              "gather: receive buffer of ", recv.size(), " for ", size_, " workers sending ",
              send.size());
    BDL_CHECK(send.size() * 4 <= kMaxMessageBytes, "gather: ", send.size(), " floats per worker");
    const int count = static_cast<int>(send.size());
    if (rank_ != root) {
      Pending p{MPI_REQUEST_NULL, root};
      check_mpi(MPI_Isend(send.data(), count, MPI_FLOAT, root, kGatherTag, comm_, &p.request),
                "MPI_Isend");
      wait_one(p, "gather", "to");
      return;
    }
    std::copy(send.begin(), send.end(), recv.begin() + static_cast<std::ptrdiff_t>(root) * count);
    std::vector<Pending> from;
    for (int peer = 0; peer < size_; ++peer) {
      if (peer == root) continue;
      from.push_back({MPI_REQUEST_NULL, peer});
      check_mpi(MPI_Irecv(recv.data() + static_cast<size_t>(peer) * send.size(), count, MPI_FLOAT,
                          peer, kGatherTag, comm_, &from.back().request),
                "MPI_Irecv");
    }
    for (auto& p : from) wait_one(p, "gather", "from");
  }

  void barrier() override {
    MPI_Request r;
    check_mpi(MPI_Ibarrier(comm_, &r), "MPI_Ibarrier");
    Pending p{r, -1};
    wait_one(p, "barrier", "with");
  }

  [[noreturn]] void abort(int code) override {
    MPI_Abort(MPI_COMM_WORLD, code);
    std::_Exit(code);
  }

 private:
  struct Pending {
    MPI_Request request;
    int peer;  // -1: a collective
  };

  // Polls until the request completes or the deadline passes. MPI itself would
  // block forever on a peer that stopped answering.
  void wait_one(Pending& p, const char* what, const char* direction) {
    const auto deadline = std::chrono::steady_clock::now() + timeout_;
    int done = 0;
    while (true) {
      check_mpi(MPI_Test(&p.request, &done, MPI_STATUS_IGNORE), what);
      if (done) return;
      if (std::chrono::steady_clock::now() > deadline) {
        // A collective of two has one peer it can be waiting for.
        if (p.peer < 0 && size_ == 2) p.peer = 1 - rank_;
        if (p.peer >= 0) {
          fail("rank ", rank_, ": lost rank ", p.peer, ": ", what, " ", direction, " rank ", p.peer,
               " made no progress for ", timeout_.count(), " ms");
        }
        fail("rank ", rank_, ": lost a peer: ", what, " made no progress for ", timeout_.count(),
             " ms");
      }
      sched_yield();
    }
  }

  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0;
  int size_ = 1;
  std::vector<Pending> sends_, receives_;
};

}  // namespace

std::unique_ptr<Communicator> mpi_world() { return std::make_unique<MpiCommunicator>(); }

}  // namespace bdl::dist
