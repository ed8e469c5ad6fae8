#include "bdl/dist/gloo_communicator.h"

#include <gloo/allreduce.h>
#include <gloo/common/error.h>
#include <gloo/context.h>
#include <gloo/math.h>
#include <gloo/transport/context.h>
#include <gloo/transport/tcp/attr.h>
#include <gloo/transport/tcp/device.h>
#include <gloo/types.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "bdl/core/error.h"
#include "peer_streams.h"

namespace bdl::dist {
namespace {

// Gloo's own collectives use slot prefixes 0x01 to 0x08; bdl's transfers carry
// their tag under a prefix of their own.
constexpr uint8_t kSlotPrefix = 0x42;
// The tags of the collectives built here from transfers: apart from the sync's.
constexpr int kGatherTag = 0x6A7;
constexpr int kBroadcastTag = 0x6A8;
constexpr int kReduceTag = 0x6A9;
constexpr uint32_t kAllreduceTag = 0x6AA;
constexpr char kBlobMagic[4] = {'B', 'D', 'L', 'G'};

void put_u32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

// Reads the blob of worker `from` for a world of `size`.
struct Blob {
  std::string host;
  std::vector<std::string> addresses;  // one per rank; its own is empty
  int stream_port = 0;                 // PeerStreams' listening port
};

// Whether the sync's transfers go over bdl's own streams (the default) or over
// Gloo's unbound buffers (BDL_TRANSFERS=gloo, kept to compare the two).
bool streams_wanted() {
  const char* v = std::getenv("BDL_TRANSFERS");
  if (!v || !*v || std::strcmp(v, "streams") == 0) return true;
  BDL_CHECK(std::strcmp(v, "gloo") == 0, "BDL_TRANSFERS='", v, "' is neither 'streams' nor 'gloo'");
  return false;
}

Blob parse_blob(const std::string& bytes, int from, int size) {
  size_t at = 0;
  auto u32 = [&]() {
    BDL_CHECK(at + 4 <= bytes.size(), "join: the address blob of rank ", from, " is cut short (",
              bytes.size(), " bytes)");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i)
      v |= static_cast<uint32_t>(static_cast<uint8_t>(bytes[at + i])) << (8 * i);
    at += 4;
    return v;
  };
  auto text = [&](uint32_t n) {
    BDL_CHECK(at + n <= bytes.size(), "join: the address blob of rank ", from, " is cut short (",
              bytes.size(), " bytes)");
    std::string s = bytes.substr(at, n);
    at += n;
    return s;
  };
  BDL_CHECK(bytes.size() >= 4 && std::memcmp(bytes.data(), kBlobMagic, 4) == 0, "join: what rank ",
            from, " sent is not a bdl address blob");
  at = 4;
  const uint32_t rank = u32();
  const uint32_t world = u32();
  BDL_CHECK(static_cast<int>(rank) == from && static_cast<int>(world) == size,
            "join: the blob in place ", from, " is rank ", rank, " of ", world, ", expected rank ",
            from, " of ", size);
  Blob b;
  b.host = text(u32());
  for (int r = 0; r < size; ++r) b.addresses.push_back(text(u32()));
  b.stream_port = static_cast<int>(u32());
  return b;
}

// A gloo::Context whose pairs are made before their peers' addresses are known
// (gloo's own rendezvous needs a key-value store, which Spark does not offer).
class JoinedContext : public gloo::Context {
 public:
  JoinedContext(int rank, int size, const std::shared_ptr<gloo::transport::Device>& device,
                std::chrono::milliseconds timeout)
      : gloo::Context(rank, size) {
    device_ = device;
    transportContext_ = device->createContext(rank, size);
    transportContext_->setTimeout(timeout);
    setTimeout(timeout);
  }
  gloo::transport::Context& transport() { return *transportContext_; }
};

class GlooCommunicator : public Communicator {
 public:
  GlooCommunicator(std::shared_ptr<JoinedContext> context, std::string host,
                   std::unique_ptr<PeerStreams> streams)
      : ctx_(std::move(context)), host_(std::move(host)), streams_(std::move(streams)) {}

  ~GlooCommunicator() override {
    sends_.clear();
    receives_.clear();
    if (streams_) streams_->close();
    ctx_->closeConnections();
  }

  int rank() const override { return ctx_->rank; }
  int size() const override { return ctx_->size; }
  std::string describe() const override {
    return detail::concat(size(), " workers over TCP (Gloo", streams_ ? " and bdl's streams" : "",
                          "; rank ", rank(), " at ", host_, ")");
  }

  void isend(const void* data, size_t bytes, int peer, int tag) override {
    if (streams_) {
      check_usable();
      BDL_CHECK(tag >= 0, "transfer tag ", tag, " is negative");
      streams_->isend(data, bytes, peer, tag);
      return;
    }
    post(sends_, const_cast<void*>(data), bytes, peer, tag, /*receive=*/false);
  }
  void irecv(void* data, size_t bytes, int peer, int tag) override {
    if (streams_) {
      check_usable();
      BDL_CHECK(tag >= 0, "transfer tag ", tag, " is negative");
      streams_->irecv(data, bytes, peer, tag);
      return;
    }
    post(receives_, data, bytes, peer, tag, /*receive=*/true);
  }

  void wait_receives(const char* what, const std::function<void(size_t)>& on_received) override {
    if (streams_) {
      guarded([&] { streams_->wait_receives(what, timeout_, on_received); });
      return;
    }
    for (size_t i = 0; i < receives_.size(); ++i) {
      wait(receives_[i], true, what);
      on_received(i);
    }
    receives_.clear();
  }

  void wait_all(const char* what) override {
    if (streams_) {
      guarded([&] { streams_->wait_all(what, timeout_); });
      return;
    }
    for (auto& r : receives_) wait(r, true, what);
    for (auto& s : sends_) wait(s, false, what);
    receives_.clear();
    sends_.clear();
  }

  // Gathered to rank 0, reduced there in rank order, sent back: every worker
  // gets the same bits.
  void allreduce(std::span<double> values, AllreduceOp op) override {
    const size_t bytes = values.size() * sizeof(double);
    if (rank() != 0) {
      isend(values.data(), bytes, 0, kReduceTag);
      wait_all("allreduce of metrics");
      irecv(values.data(), bytes, 0, kReduceTag);
      wait_all("allreduce of metrics");
      return;
    }
    std::vector<double> all(values.size() * static_cast<size_t>(size()));
    for (int peer = 1; peer < size(); ++peer) {
      irecv(all.data() + values.size() * static_cast<size_t>(peer), bytes, peer, kReduceTag);
    }
    wait_all("allreduce of metrics");
    for (int peer = 1; peer < size(); ++peer) {
      const double* other = all.data() + values.size() * static_cast<size_t>(peer);
      for (size_t i = 0; i < values.size(); ++i) {
        switch (op) {
          case AllreduceOp::sum:
            values[i] += other[i];
            break;
          case AllreduceOp::min:
            values[i] = std::min(values[i], other[i]);
            break;
          case AllreduceOp::max:
            values[i] = std::max(values[i], other[i]);
            break;
        }
      }
    }
    for (int peer = 1; peer < size(); ++peer) isend(values.data(), bytes, peer, kReduceTag);
    wait_all("allreduce of metrics");
  }

  // Gloo's ring allreduce: every worker ends with the same bits.
  void allreduce_sum(std::span<float> values) override {
    if (values.empty()) return;
    check_usable();
    gloo::AllreduceOptions opts(ctx_);
    opts.setOutput(values.data(), values.size());
    opts.setReduceFunction(
        static_cast<void (*)(void*, const void*, const void*, size_t)>(&gloo::sum<float>));
    opts.setTag(kAllreduceTag);
    opts.setTimeout(timeout_);
    try {
      gloo::allreduce(opts);
    } catch (const gloo::Exception& e) {
      abandon();
      fail("rank ", rank(), ": lost a peer: allreduce of gradients: ", e.what());
    }
  }

  // Point to point, so that a root left waiting names the rank that took nothing.
  void broadcast(std::span<float> values, int root) override {
    check_peer(root);
    const size_t bytes = values.size() * sizeof(float);
    if (rank() != root) {
      irecv(values.data(), bytes, root, kBroadcastTag);
    } else {
      for (int peer = 0; peer < size(); ++peer) {
        if (peer != root) isend(values.data(), bytes, peer, kBroadcastTag);
      }
    }
    wait_all("broadcast");
  }

  void gather(std::span<const float> send, std::span<float> recv, int root) override {
    check_peer(root);
    BDL_CHECK(rank() != root || recv.size() == send.size() * static_cast<size_t>(size()),
              "gather: receive buffer of ", recv.size(), " for ", size(), " workers sending ",
              send.size());
    const size_t bytes = send.size() * sizeof(float);
    if (rank() != root) {
      isend(send.data(), bytes, root, kGatherTag);
      wait_all("gather");
      return;
    }
    std::copy(send.begin(), send.end(),
              recv.begin() + static_cast<std::ptrdiff_t>(root * send.size()));
    for (int peer = 0; peer < size(); ++peer) {
      if (peer != root)
        irecv(recv.data() + static_cast<size_t>(peer) * send.size(), bytes, peer, kGatherTag);
    }
    wait_all("gather");
  }

  void barrier() override {
    double token = 0;
    allreduce(std::span<double>(&token, 1), AllreduceOp::sum);
  }

  // Gloo has no job-wide abort: this process ends, and its peers' next transfer
  // with it fails at once (the connection closes).
  [[noreturn]] void abort(int code) override {
    std::fflush(stdout);
    std::fflush(stderr);
    std::_Exit(code);
  }
  bool ends_job_on_error() const override { return false; }
  void abandon() override {
    broken_ = true;
    sends_.clear();
    receives_.clear();
    if (streams_) streams_->close();
    ctx_->closeConnections();
  }

 private:
  // A failed transfer on the streams leaves this worker's connections closed
  // (the peers' transfers with it fail at once): Gloo's go too.
  template <typename F>
  void guarded(F&& f) {
    check_usable();
    try {
      f();
    } catch (...) {
      abandon();
      throw;
    }
  }

  struct Pending {
    std::unique_ptr<gloo::transport::UnboundBuffer> buffer;
    int peer;
  };

  void check_peer(int peer) const {
    BDL_CHECK(peer >= 0 && peer < size(), "rank ", rank(), ": no worker ", peer, " among ", size());
  }

  void check_usable() const {
    BDL_CHECK(!broken_, "rank ", rank(),
              ": the connections to the other workers were lost earlier; this communicator is "
              "unusable");
  }

  void post(std::vector<Pending>& into, void* data, size_t bytes, int peer, int tag, bool receive) {
    check_usable();
    BDL_CHECK(peer >= 0 && peer < size() && peer != rank(), "rank ", rank(), ": no peer ", peer,
              " among ", size(), " workers");
    BDL_CHECK(tag >= 0, "transfer tag ", tag, " is negative");
    // Gloo wants a buffer even for an empty message.
    static char empty;
    auto buffer = ctx_->createUnboundBuffer(bytes ? data : &empty, bytes);
    const uint64_t slot = gloo::Slot::build(kSlotPrefix, static_cast<uint32_t>(tag));
    try {
      if (receive) {
        buffer->recv(peer, slot, 0, bytes);
      } else {
        buffer->send(peer, slot, 0, bytes);
      }
    } catch (const gloo::Exception& e) {
      lost(peer, receive ? "posting a receive" : "posting a send", receive ? "from" : "to",
           e.what());
    }
    into.push_back({std::move(buffer), peer});
  }

  void wait(Pending& p, bool receive, const char* what) {
    try {
      const bool done =
          receive ? p.buffer->waitRecv(nullptr, timeout_) : p.buffer->waitSend(nullptr, timeout_);
      if (done) return;
      lost(p.peer, what, receive ? "from" : "to", "aborted");
    } catch (const gloo::Exception& e) {
      lost(p.peer, what, receive ? "from" : "to", e.what());
    }
  }

  // Every pending transfer is dropped (Gloo no longer writes into a buffer whose
  // handle is gone) and the communicator refuses further use.
  [[noreturn]] void lost(int peer, const char* what, const char* direction,
                         const std::string& why) {
    abandon();
    const bool timed_out = why.find("Timed out") != std::string::npos;
    if (timed_out) {
      fail("rank ", rank(), ": lost rank ", peer, ": ", what, " ", direction, " rank ", peer,
           " made no progress for ", timeout_.count(), " ms");
    }
    fail("rank ", rank(), ": lost rank ", peer, ": ", what, " ", direction, " rank ", peer, ": ",
         why);
  }

  std::shared_ptr<JoinedContext> ctx_;
  std::string host_;
  std::unique_ptr<PeerStreams> streams_;  // null: transfers over Gloo's unbound buffers
  std::vector<Pending> sends_, receives_;
  bool broken_ = false;
};

}  // namespace

struct GlooJoin::State {
  std::shared_ptr<gloo::transport::Device> device;
  std::shared_ptr<JoinedContext> context;
  std::unique_ptr<PeerStreams> streams;
  std::string host;
  std::string blob;
  bool spent = false;
};

GlooJoin::GlooJoin(int rank, int size, const std::string& host, std::chrono::milliseconds timeout)
    : state_(std::make_unique<State>()) {
  BDL_CHECK(size >= 1 && rank >= 0 && rank < size, "join: rank ", rank, " of ", size,
            " workers is not a place in the world");
  BDL_CHECK(!host.empty(), "join: rank ", rank, " has no address to listen on");
  BDL_CHECK(timeout.count() > 0, "join: timeout of ", timeout.count(), " ms");
  state_->host = host;
  try {
    gloo::transport::tcp::attr attr;
    attr.hostname = host;
    state_->device = gloo::transport::tcp::CreateDevice(attr);
    state_->context = std::make_shared<JoinedContext>(rank, size, state_->device, timeout);
    for (int peer = 0; peer < size; ++peer) {
      if (peer != rank) state_->context->transport().createPair(peer);
    }
    if (size > 1 && streams_wanted())
      state_->streams = std::make_unique<PeerStreams>(rank, size, host);
  } catch (const gloo::Exception& e) {
    fail("join: rank ", rank, " cannot listen on '", host, "': ", e.what());
  }
  std::string& b = state_->blob;
  b.append(kBlobMagic, 4);
  put_u32(b, static_cast<uint32_t>(rank));
  put_u32(b, static_cast<uint32_t>(size));
  put_u32(b, static_cast<uint32_t>(host.size()));
  b += host;
  for (int peer = 0; peer < size; ++peer) {
    std::string address;
    if (peer != rank) {
      const std::vector<char> bytes = state_->context->getPair(peer)->address().bytes();
      address.assign(bytes.begin(), bytes.end());
    }
    put_u32(b, static_cast<uint32_t>(address.size()));
    b += address;
  }
  put_u32(b, static_cast<uint32_t>(state_->streams ? state_->streams->port() : 0));
}

GlooJoin::~GlooJoin() = default;

int GlooJoin::rank() const { return state_->context->rank; }
int GlooJoin::size() const { return state_->context->size; }
const std::string& GlooJoin::address_blob() const { return state_->blob; }

std::unique_ptr<Communicator> GlooJoin::connect(const std::vector<std::string>& blobs) {
  BDL_CHECK(!state_->spent, "join: connect() was called twice");
  const int me = rank();
  const int n = size();
  BDL_CHECK(static_cast<int>(blobs.size()) == n, "join: rank ", me, " got ", blobs.size(),
            " address blobs for ", n, " workers");
  std::vector<Blob> peers;
  peers.reserve(static_cast<size_t>(n));
  for (int r = 0; r < n; ++r) peers.push_back(parse_blob(blobs[static_cast<size_t>(r)], r, n));
  BDL_CHECK(peers[static_cast<size_t>(me)].addresses.size() == static_cast<size_t>(n) &&
                blobs[static_cast<size_t>(me)] == state_->blob,
            "join: the blob in place ", me, " is not this worker's own");
  // The pairs of one machine share a local rank, counted in rank order (as Gloo's
  // own rendezvous does).
  int local_rank = 0;
  for (int r = 0; r < me; ++r) local_rank += peers[static_cast<size_t>(r)].host == state_->host;
  state_->spent = true;
  for (int peer = 0; peer < n; ++peer) {
    if (peer == me) continue;
    const std::string& address =
        peers[static_cast<size_t>(peer)].addresses[static_cast<size_t>(me)];
    try {
      auto& pair = state_->context->getPair(peer);
      pair->setLocalRank(local_rank);
      pair->connect(std::vector<char>(address.begin(), address.end()));
    } catch (const gloo::Exception& e) {
      fail("join: rank ", me, " could not connect to rank ", peer, " at ",
           peers[static_cast<size_t>(peer)].host, ": ", e.what());
    }
  }
  if (state_->streams) {
    std::vector<std::string> hosts;
    std::vector<int> ports;
    for (const Blob& b : peers) {
      hosts.push_back(b.host);
      ports.push_back(b.stream_port);
    }
    for (int peer = 0; peer < n; ++peer) {
      BDL_CHECK(peer == me || ports[static_cast<size_t>(peer)] > 0, "join: rank ", peer,
                " has no stream port: its BDL_TRANSFERS differs from rank ", me, "'s");
    }
    state_->streams->connect(hosts, ports, state_->context->getTimeout());
  }
  auto comm =
      std::make_unique<GlooCommunicator>(state_->context, state_->host, std::move(state_->streams));
  // Every pair is whole on both ends before any worker goes on (a worker that
  // connected and closed at once would cut its peer's handshake short).
  comm->set_timeout(state_->context->getTimeout());
  comm->barrier();
  return comm;
}

bool launched_by_env() {
  for (const char* var : {"RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"}) {
    if (!std::getenv(var)) return false;
  }
  return true;
}

namespace {

int env_int(const char* name, int low, int high) {
  const char* text = std::getenv(name);
  BDL_CHECK(text && *text, "environment launch: ", name, " is not set");
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(text, &end, 10);
  BDL_CHECK(errno == 0 && *end == '\0' && end != text && v >= low && v <= high,
            "environment launch: ", name, "='", text, "' is not a whole number from ", low, " to ",
            high);
  return static_cast<int>(v);
}

}  // namespace

std::unique_ptr<Communicator> env_world() {
  const int size = env_int("WORLD_SIZE", 1, 1 << 20);
  const int rank = env_int("RANK", 0, size - 1);
  const int port = env_int("MASTER_PORT", 1, 65535);
  const std::string master = std::getenv("MASTER_ADDR");
  BDL_CHECK(!master.empty(), "environment launch: MASTER_ADDR is empty");
  if (size == 1) return local_communicator();
  const char* own = std::getenv("BDL_HOST");
  std::unique_ptr<GlooJoin> join;
  const auto blobs = tcp_all_gather(
      master, port, rank, size,
      [&](const std::string& local) {
        join = std::make_unique<GlooJoin>(rank, size, own && *own ? own : local, start_timeout());
        return join->address_blob();
      },
      start_timeout());
  return join->connect(blobs);
}

}  // namespace bdl::dist
