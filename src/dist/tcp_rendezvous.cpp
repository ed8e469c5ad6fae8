// tcp_all_gather: the rendezvous of an environment launch. Rank 0 listens on
// MASTER_PORT; every other rank connects, says who it is and sends its blob;
// rank 0 answers each with every blob once all have arrived. Every wait has the
// one deadline, so a missing worker ends the start-up with its rank named.
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "bdl/core/error.h"
#include "bdl/dist/gloo_communicator.h"
#include "socket_io.h"

namespace bdl::dist {
namespace {

using net::await;
using net::Clock;
using net::recv_all;
using net::recv_u32;
using net::send_all;
using net::send_u32;
using net::Socket;
constexpr uint32_t kHello = 0x52444C42;  // "BLDR"
constexpr uint32_t kOk = 0;
constexpr uint32_t kRefused = 1;
// A blob is a few hundred bytes per worker: anything far larger is not a worker.
constexpr uint32_t kMaxBlob = 1u << 24;

void send_text(int fd, const std::string& s, Clock::time_point deadline, const std::string& to) {
  send_u32(fd, static_cast<uint32_t>(s.size()), deadline, to);
  send_all(fd, s.data(), s.size(), deadline, to);
}

std::string recv_text(int fd, Clock::time_point deadline, const std::string& from) {
  const uint32_t n = recv_u32(fd, deadline, from);
  BDL_CHECK(n <= kMaxBlob, "rendezvous: ", from, " announced ", n, " bytes: not a bdl worker");
  std::string s(n, '\0');
  recv_all(fd, s.data(), n, deadline, from);
  return s;
}

// The numeric address of one end of a connected socket.
std::string address_of(int fd, bool local) {
  sockaddr_storage a{};
  socklen_t len = sizeof(a);
  const int rc = local ? ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len)
                       : ::getpeername(fd, reinterpret_cast<sockaddr*>(&a), &len);
  BDL_CHECK(rc == 0, "rendezvous: getsockname: ", std::strerror(errno));
  char text[INET6_ADDRSTRLEN] = {};
  if (a.ss_family == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&a)->sin_addr, text, sizeof(text));
  } else {
    const auto* a6 = reinterpret_cast<sockaddr_in6*>(&a);
    if (IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr)) {
      ::inet_ntop(AF_INET, &a6->sin6_addr.s6_addr[12], text, sizeof(text));
    } else {
      ::inet_ntop(AF_INET6, &a6->sin6_addr, text, sizeof(text));
    }
  }
  return text;
}

struct Resolved {
  addrinfo* list = nullptr;
  ~Resolved() {
    if (list) ::freeaddrinfo(list);
  }
};

void resolve(const std::string& host, int port, int flags, Resolved& out) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = flags;
  const std::string service = std::to_string(port);
  const int rc =
      ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &out.list);
  BDL_CHECK(rc == 0 && out.list, "rendezvous: cannot resolve the master address '", host,
            "': ", ::gai_strerror(rc));
}

std::string master_name(const std::string& addr, int port) {
  return detail::concat("the master (rank 0) at ", addr, ":", port);
}

// Rank 0's listening socket on every address of the master's family:
// MASTER_ADDR may be a name that resolves differently here (127.0.1.1) than on
// the other machines.
Socket listen_on(const std::string& master_addr, int port, int backlog) {
  Resolved master;
  resolve(master_addr, port, 0, master);
  Resolved any;
  resolve(master.list->ai_family == AF_INET6 ? "::" : "0.0.0.0", port, AI_PASSIVE, any);
  Socket listener(::socket(any.list->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  BDL_CHECK(listener.fd() >= 0, "rendezvous: socket: ", std::strerror(errno));
  const int one = 1;
  ::setsockopt(listener.fd(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  BDL_CHECK(::bind(listener.fd(), any.list->ai_addr, any.list->ai_addrlen) == 0,
            "rendezvous: rank 0 cannot listen on port ", port,
            " (MASTER_PORT): ", std::strerror(errno));
  BDL_CHECK(::listen(listener.fd(), backlog) == 0, "rendezvous: listen: ", std::strerror(errno));
  return listener;
}

// Tells the workers that arrived which did not, then fails. `first`: the
// lowest rank that connects (0 for a relay, 1 when rank 0 serves).
[[noreturn]] void missing_workers(const std::vector<Socket>& peers, int first,
                                  const std::string& where, std::chrono::milliseconds timeout) {
  const int size = static_cast<int>(peers.size());
  std::string missing;
  for (int r = first; r < size; ++r) {
    if (peers[static_cast<size_t>(r)].fd() < 0)
      missing += (missing.empty() ? "" : ", ") + std::to_string(r);
  }
  const std::string why =
      detail::concat("rank", missing.find(',') == std::string::npos ? " " : "s ", missing, " of ",
                     size, " did not reach ", where, " within ", timeout.count(),
                     " ms: a worker did not start, or cannot reach it");
  const std::string speaker = first == 0 ? "the rendezvous" : "rank 0";
  const Clock::time_point soon = Clock::now() + std::chrono::seconds(1);
  for (const auto& peer : peers) {
    if (peer.fd() < 0) continue;
    try {
      send_u32(peer.fd(), kRefused, soon, "a worker");
      send_text(peer.fd(), detail::concat(speaker, " says: ", why), soon, "a worker");
    } catch (const Error&) {
    }
  }
  fail("rendezvous: ", speaker, ": ", why);
}

// The rank a new connection says it is, checked against the world; -1 for a
// connection that is not a bdl worker's (ignored). A worker of another world,
// or a rank taken twice, fails the rendezvous (and is told why).
int greeting(const Socket& c, const std::vector<Socket>& peers, int first,
             Clock::time_point deadline) {
  const auto size = static_cast<uint32_t>(peers.size());
  const std::string who = "the worker at " + address_of(c.fd(), false);
  const Clock::time_point hello_deadline =
      std::min(deadline, Clock::now() + std::chrono::seconds(10));
  uint32_t rank = 0, world = 0;
  try {
    if (recv_u32(c.fd(), hello_deadline, who) != kHello) return -1;
    rank = recv_u32(c.fd(), hello_deadline, who);
    world = recv_u32(c.fd(), hello_deadline, who);
  } catch (const Error&) {
    return -1;  // said nothing useful
  }
  std::string refusal;
  if (world != size) {
    refusal = detail::concat("rank ", rank, " says the world has ", world, " workers, rank 0 says ",
                             size, " (WORLD_SIZE differs)");
  } else if (static_cast<int>(rank) < first || rank >= world) {
    refusal = detail::concat("a worker says it is rank ", rank, " of ", world);
  } else if (peers[rank].fd() >= 0) {
    refusal = detail::concat("two workers say they are rank ", rank, " (RANK repeated)");
  }
  if (!refusal.empty()) {
    try {
      // The worker's blob is read first: a socket closed with data unread
      // resets, and the worker would see a broken pipe instead of the reason.
      recv_text(c.fd(), hello_deadline, who);
      send_u32(c.fd(), kRefused, deadline, who);
      send_text(c.fd(), refusal, deadline, who);
    } catch (const Error&) {
    }
    fail("rendezvous: ", refusal);
  }
  return static_cast<int>(rank);
}

// Accepts workers first..size-1 on `listener`, then sends each every blob.
// make_blob (rank 0 serving) makes blob 0 from the address the first worker
// reached it by.
std::vector<std::string> serve_on(const Socket& listener, int size, int first,
                                  const std::function<std::string(const std::string&)>& make_blob,
                                  const std::string& where, Clock::time_point deadline,
                                  std::chrono::milliseconds timeout) {
  std::vector<std::string> blobs(static_cast<size_t>(size));
  std::vector<Socket> peers(static_cast<size_t>(size));
  for (int arrived = first; arrived < size;) {
    if (!await(listener.fd(), POLLIN, deadline)) missing_workers(peers, first, where, timeout);
    Socket c(::accept4(listener.fd(), nullptr, nullptr, SOCK_CLOEXEC));
    if (c.fd() < 0) continue;
    const int rank = greeting(c, peers, first, deadline);
    if (rank < 0) continue;
    const auto r = static_cast<size_t>(rank);
    blobs[r] = recv_text(c.fd(), deadline, "rank " + std::to_string(rank));
    if (make_blob && blobs[0].empty()) blobs[0] = make_blob(address_of(c.fd(), true));
    peers[r] = std::move(c);
    ++arrived;
  }
  for (int r = first; r < size; ++r) {
    const int fd = peers[static_cast<size_t>(r)].fd();
    const std::string to = "rank " + std::to_string(r);
    send_u32(fd, kOk, deadline, to);
    send_u32(fd, static_cast<uint32_t>(size), deadline, to);
    for (const auto& b : blobs) send_text(fd, b, deadline, to);
  }
  return blobs;
}

std::vector<std::string> join(const std::string& master_addr, int port, int rank, int size,
                              const std::function<std::string(const std::string&)>& make_blob,
                              Clock::time_point deadline, std::chrono::milliseconds timeout) {
  const std::string master = master_name(master_addr, port);
  Socket s;
  std::string last_error = "no attempt";
  // The master may not listen yet: retry until the deadline.
  while (s.fd() < 0) {
    Resolved r;
    resolve(master_addr, port, 0, r);
    for (addrinfo* a = r.list; a && s.fd() < 0; a = a->ai_next) {
      Socket c(::socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
      if (c.fd() < 0) continue;
      if (::connect(c.fd(), a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS) {
        last_error = std::strerror(errno);
        continue;
      }
      if (!await(c.fd(), POLLOUT, std::min(deadline, Clock::now() + std::chrono::seconds(5)))) {
        last_error = "connection timed out";
        continue;
      }
      int err = 0;
      socklen_t len = sizeof(err);
      ::getsockopt(c.fd(), SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        last_error = std::strerror(err);
        continue;
      }
      s = std::move(c);
    }
    if (s.fd() >= 0) break;
    BDL_CHECK(Clock::now() < deadline, "rendezvous: rank ", rank, " could not reach ", master,
              " within ", timeout.count(), " ms: ", last_error);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const std::string blob = make_blob(address_of(s.fd(), true));
  try {
    send_u32(s.fd(), kHello, deadline, master);
    send_u32(s.fd(), static_cast<uint32_t>(rank), deadline, master);
    send_u32(s.fd(), static_cast<uint32_t>(size), deadline, master);
    send_text(s.fd(), blob, deadline, master);
  } catch (const Error&) {
    // The server may have refused this worker and closed early: its answer,
    // when it arrived, says why.
    std::string why;
    try {
      const Clock::time_point soon = Clock::now() + std::chrono::seconds(1);
      if (recv_u32(s.fd(), soon, master) == kRefused) why = recv_text(s.fd(), soon, master);
    } catch (const Error&) {
    }
    if (!why.empty()) fail("rendezvous: rank ", rank, ": ", why);
    throw;
  }
  std::vector<std::string> blobs;
  // Rank 0 keeps the deadline: a little longer here, so that when a worker is
  // missing, this one hears from rank 0 which.
  const Clock::time_point answer = deadline + std::chrono::seconds(2);
  try {
    const uint32_t status = recv_u32(s.fd(), answer, master);
    if (status == kRefused)
      fail("rendezvous: rank ", rank, ": ", recv_text(s.fd(), answer, master));
    BDL_CHECK(status == kOk, "rendezvous: ", master, " answered with status ", status);
    const uint32_t n = recv_u32(s.fd(), answer, master);
    BDL_CHECK(n == static_cast<uint32_t>(size), "rendezvous: ", master, " sent ", n, " blobs for ",
              size, " workers");
    for (uint32_t i = 0; i < n; ++i) blobs.push_back(recv_text(s.fd(), answer, master));
  } catch (const Error& e) {
    const std::string what = e.what();
    if (what.find("before the deadline") != std::string::npos) {
      fail("rendezvous: rank ", rank, ": ", master, " did not answer within ", timeout.count(),
           " ms: not every worker reached it");
    }
    throw;
  }
  return blobs;
}

}  // namespace

std::vector<std::string> tcp_all_gather(
    const std::string& master_addr, int master_port, int rank, int size,
    const std::function<std::string(const std::string&)>& make_blob,
    std::chrono::milliseconds timeout) {
  BDL_CHECK(size >= 1 && rank >= 0 && rank < size, "rendezvous: rank ", rank, " of ", size);
  BDL_CHECK(master_port > 0 && master_port < 65536, "rendezvous: port ", master_port);
  const Clock::time_point deadline = Clock::now() + timeout;
  if (size == 1) return {make_blob(master_addr)};
  if (rank == 0) {
    const Socket listener = listen_on(master_addr, master_port, size);
    return serve_on(listener, size, 1, make_blob, detail::concat("port ", master_port), deadline,
                    timeout);
  }
  return join(master_addr, master_port, rank, size, make_blob, deadline, timeout);
}

struct TcpRelay::State {
  Socket listener;
  int size = 0;
  int port = 0;
  std::chrono::milliseconds timeout{0};
};

TcpRelay::TcpRelay(int size, std::chrono::milliseconds timeout)
    : state_(std::make_unique<State>()) {
  BDL_CHECK(size >= 1, "rendezvous: a relay for ", size, " workers");
  state_->size = size;
  state_->timeout = timeout;
  state_->listener = listen_on("0.0.0.0", 0, size);
  sockaddr_in a{};
  socklen_t len = sizeof(a);
  BDL_CHECK(::getsockname(state_->listener.fd(), reinterpret_cast<sockaddr*>(&a), &len) == 0,
            "rendezvous: getsockname: ", std::strerror(errno));
  state_->port = ntohs(a.sin_port);
}

TcpRelay::~TcpRelay() = default;

int TcpRelay::port() const { return state_->port; }

void TcpRelay::serve() {
  const Clock::time_point deadline = Clock::now() + state_->timeout;
  serve_on(state_->listener, state_->size, 0, nullptr,
           detail::concat("the rendezvous on port ", state_->port), deadline, state_->timeout);
}

std::vector<std::string> tcp_join(const std::string& host, int port, int rank, int size,
                                  const std::function<std::string(const std::string&)>& make_blob,
                                  std::chrono::milliseconds timeout) {
  BDL_CHECK(size >= 1 && rank >= 0 && rank < size, "rendezvous: rank ", rank, " of ", size);
  BDL_CHECK(port > 0 && port < 65536, "rendezvous: port ", port);
  return join(host, port, rank, size, make_blob, Clock::now() + timeout, timeout);
}

}  // namespace bdl::dist
