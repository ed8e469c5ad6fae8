#include "peer_streams.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include "bdl/core/error.h"
#include "socket_io.h"

namespace bdl::dist {
namespace {

using net::Clock;
constexpr uint32_t kStreamHello = 0x534C4442;  // "BDLS"
constexpr uint32_t kMessage = 0x4D4C4442;      // "BDLM"
// How long a wait spins before it sleeps in poll(): the peers of a ring step
// usually answer within it, and a sleeping thread pays a wake-up.
constexpr auto kSpin = std::chrono::microseconds(2000);

void put32(unsigned char* at, uint32_t v) {
  for (int i = 0; i < 4; ++i) at[i] = static_cast<unsigned char>(v >> (8 * i));
}
uint32_t get32(const unsigned char* at) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(at[i]) << (8 * i);
  return v;
}

void make_stream(int fd) {
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  const int flags = ::fcntl(fd, F_GETFL, 0);
  BDL_CHECK(flags >= 0 && ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0,
            "peer streams: fcntl: ", std::strerror(errno));
}

// A connection to host:port, retried until the deadline (the peer may not
// listen yet only if it is slow to start; it listens before its blob is sent).
int connect_to(const std::string& host, int port, Clock::time_point deadline,
               const std::string& who) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  const std::string service = std::to_string(port);
  const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &list);
  BDL_CHECK(rc == 0 && list, "join: cannot resolve ", who, "'s address '", host,
            "': ", ::gai_strerror(rc));
  std::string why = "timed out";
  while (true) {
    for (addrinfo* a = list; a; a = a->ai_next) {
      // Non-blocking, so that an address that drops packets costs no more than
      // the deadline.
      const int fd = ::socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
      if (fd < 0) continue;
      int err = ::connect(fd, a->ai_addr, a->ai_addrlen) == 0 ? 0 : errno;
      if (err == EINPROGRESS) {
        err = ETIMEDOUT;
        if (net::await(fd, POLLOUT, deadline)) {
          socklen_t len = sizeof(err);
          ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        }
      }
      if (err == 0) {
        const int flags = ::fcntl(fd, F_GETFL, 0);
        ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
        ::freeaddrinfo(list);
        return fd;
      }
      why = std::strerror(err);
      ::close(fd);
    }
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::freeaddrinfo(list);
  fail("join: cannot connect to ", who, " at ", host, ":", port, ": ", why);
}

}  // namespace

PeerStreams::PeerStreams(int rank, int size, const std::string& host)
    : rank_(rank), size_(size), peers_(static_cast<size_t>(size)) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* list = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), "0", &hints, &list);
  BDL_CHECK(rc == 0 && list, "join: rank ", rank, " cannot resolve its own address '", host,
            "': ", ::gai_strerror(rc));
  listener_ = ::socket(list->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const bool bound = listener_ >= 0 && ::bind(listener_, list->ai_addr, list->ai_addrlen) == 0 &&
                     ::listen(listener_, size) == 0;
  const int err = errno;
  ::freeaddrinfo(list);
  if (!bound) {
    close();
    fail("join: rank ", rank, " cannot listen on '", host, "': ", std::strerror(err));
  }
  sockaddr_storage a{};
  socklen_t len = sizeof(a);
  ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&a)->sin_port
                                       : reinterpret_cast<sockaddr_in6*>(&a)->sin6_port);
}

PeerStreams::~PeerStreams() { close(); }

void PeerStreams::close() {
  for (Peer& p : peers_) {
    if (p.fd >= 0) ::close(p.fd);
    p.fd = -1;
    p.sends.clear();
    p.receives.clear();
  }
  if (listener_ >= 0) ::close(listener_);
  listener_ = -1;
  sends_.clear();
  receives_.clear();
}

void PeerStreams::connect(const std::vector<std::string>& hosts, const std::vector<int>& ports,
                          std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  // Upwards by connecting (the peer's backlog holds the connection until it
  // accepts), downwards by accepting: no worker waits on one that waits on it.
  for (int peer = rank_ + 1; peer < size_; ++peer) {
    const std::string who = detail::concat("rank ", peer);
    const int fd = connect_to(hosts[static_cast<size_t>(peer)], ports[static_cast<size_t>(peer)],
                              deadline, who);
    peers_[static_cast<size_t>(peer)].fd = fd;
    unsigned char hello[12];
    put32(hello, kStreamHello);
    put32(hello + 4, static_cast<uint32_t>(rank_));
    put32(hello + 8, static_cast<uint32_t>(size_));
    net::send_all(fd, hello, sizeof(hello), deadline, who);
  }
  for (int accepted = 0; accepted < rank_;) {
    BDL_CHECK(net::await(listener_, POLLIN, deadline), "join: rank ", rank_, ": ", rank_ - accepted,
              " of the ranks below it did not connect within ", timeout.count(), " ms");
    net::Socket c(::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC));
    if (c.fd() < 0) continue;
    unsigned char hello[12];
    try {
      // A connection that says nothing is dropped after 10 s, not at the deadline.
      net::recv_all(c.fd(), hello, sizeof(hello),
                    std::min(deadline, Clock::now() + std::chrono::seconds(10)),
                    "a connecting worker");
    } catch (const Error&) {
      continue;  // not a worker, or gone
    }
    const uint32_t from = get32(hello + 4);
    if (get32(hello) != kStreamHello) continue;
    BDL_CHECK(get32(hello + 8) == static_cast<uint32_t>(size_) &&
                  from < static_cast<uint32_t>(rank_) && peers_[from].fd < 0,
              "join: rank ", rank_, ": a worker says it is rank ", from, " of ", get32(hello + 8),
              " (expected one of the ", rank_, " ranks below ", rank_, " of ", size_, ")");
    peers_[from].fd = c.release();
    ++accepted;
  }
  ::close(listener_);
  listener_ = -1;
  for (int peer = 0; peer < size_; ++peer) {
    if (peer != rank_) make_stream(peers_[static_cast<size_t>(peer)].fd);
  }
}

void PeerStreams::isend(const void* data, size_t bytes, int peer, int tag) {
  BDL_CHECK(peer >= 0 && peer < size_ && peer != rank_ && peers_[static_cast<size_t>(peer)].fd >= 0,
            "rank ", rank_, ": no stream to rank ", peer, " among ", size_, " workers");
  sends_.push_back({static_cast<char*>(const_cast<void*>(data)), bytes, tag});
  peers_[static_cast<size_t>(peer)].sends.push_back(sends_.size() - 1);
}

void PeerStreams::irecv(void* data, size_t bytes, int peer, int tag) {
  BDL_CHECK(peer >= 0 && peer < size_ && peer != rank_ && peers_[static_cast<size_t>(peer)].fd >= 0,
            "rank ", rank_, ": no stream from rank ", peer, " among ", size_, " workers");
  receives_.push_back({static_cast<char*>(data), bytes, tag});
  peers_[static_cast<size_t>(peer)].receives.push_back(receives_.size() - 1);
}

bool PeerStreams::progress_send(int peer, const char* what) {
  Peer& p = peers_[static_cast<size_t>(peer)];
  bool moved = false;
  while (!p.sends.empty()) {
    Transfer& t = sends_[p.sends.front()];
    unsigned char header[16];
    put32(header, kMessage);
    put32(header + 4, static_cast<uint32_t>(t.tag));
    put32(header + 8, static_cast<uint32_t>(t.bytes));
    put32(header + 12, static_cast<uint32_t>(static_cast<uint64_t>(t.bytes) >> 32));
    iovec parts[2];
    int count = 0;
    if (t.moved < sizeof(header)) {
      parts[count++] = {header + t.moved, sizeof(header) - t.moved};
      parts[count++] = {t.data, t.bytes};
    } else {
      parts[count++] = {t.data + (t.moved - sizeof(header)), t.bytes - (t.moved - sizeof(header))};
    }
    msghdr m{};
    m.msg_iov = parts;
    m.msg_iovlen = static_cast<size_t>(count);
    const ssize_t n = ::sendmsg(p.fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return moved;
      lost(peer, what, detail::concat("sending to it: ", std::strerror(errno)));
    }
    moved = moved || n > 0;
    t.moved += static_cast<size_t>(n);
    if (t.moved < sizeof(header) + t.bytes) return moved;
    t.done = true;
    p.sends.pop_front();
  }
  return moved;
}

bool PeerStreams::progress_receive(int peer, const char* what) {
  Peer& p = peers_[static_cast<size_t>(peer)];
  bool moved = false;
  // A message is read only once its receive is posted; until then the kernel
  // holds it (and TCP's window holds the sender back).
  while (!p.receives.empty()) {
    Transfer& t = receives_[p.receives.front()];
    const bool in_header = p.header_read < sizeof(p.header);
    char* into = in_header ? reinterpret_cast<char*>(p.header) + p.header_read : t.data + t.moved;
    const size_t want = in_header ? sizeof(p.header) - p.header_read : t.bytes - t.moved;
    ssize_t n = 0;
    if (want > 0) {
      n = ::recv(p.fd, into, want, MSG_DONTWAIT);
      if (n == 0) lost(peer, what, "it closed the connection");
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return moved;
        lost(peer, what, detail::concat("receiving from it: ", std::strerror(errno)));
      }
      moved = true;
    }
    if (in_header) {
      p.header_read += static_cast<size_t>(n);
      if (p.header_read < sizeof(p.header)) return moved;
      const uint64_t bytes = get32(p.header + 8) | static_cast<uint64_t>(get32(p.header + 12))
                                                       << 32;
      const auto tag = static_cast<int>(get32(p.header + 4));
      if (get32(p.header) != kMessage) {
        close();
        fail("rank ", rank_, ": ", what, ": the stream from rank ", peer,
             " is out of step (not a bdl message)");
      }
      if (tag != t.tag || bytes != t.bytes) {
        const size_t expected = t.bytes;
        const int expected_tag = t.tag;
        close();
        fail("rank ", rank_, ": ", what, ": rank ", peer, " sent a message of tag ", tag, " and ",
             bytes, " bytes where one of tag ", expected_tag, " and ", expected,
             " bytes was expected (the workers' calls differ)");
      }
      continue;
    }
    t.moved += static_cast<size_t>(n);
    if (t.moved < t.bytes) return moved;
    t.done = true;
    p.header_read = 0;
    p.receives.pop_front();
  }
  return moved;
}

bool PeerStreams::progress(const char* what) {
  bool moved = false;
  for (int peer = 0; peer < size_; ++peer) {
    if (peer == rank_) continue;
    moved = progress_receive(peer, what) || moved;
    moved = progress_send(peer, what) || moved;
  }
  return moved;
}

// The peer a stalled wait blames: one it awaits data from, else one that takes
// none of its data.
int PeerStreams::stalled_peer() const {
  for (int peer = 0; peer < size_; ++peer) {
    if (!peers_[static_cast<size_t>(peer)].receives.empty()) return peer;
  }
  for (int peer = 0; peer < size_; ++peer) {
    if (!peers_[static_cast<size_t>(peer)].sends.empty()) return peer;
  }
  return -1;
}

void PeerStreams::drive(const char* what, std::chrono::milliseconds timeout,
                        const std::function<bool()>& done) {
  Clock::time_point last = Clock::now();
  std::vector<pollfd> waiting;
  while (!done()) {
    if (progress(what)) {
      last = Clock::now();
      continue;
    }
    if (done()) return;
    const Clock::time_point now = Clock::now();
    if (now - last >= timeout) {
      const int peer = stalled_peer();
      lost(peer, what, detail::concat("it made no progress for ", timeout.count(), " ms"));
    }
    if (now - last < kSpin) {
      ::sched_yield();
      continue;
    }
    waiting.clear();
    for (int peer = 0; peer < size_; ++peer) {
      const Peer& p = peers_[static_cast<size_t>(peer)];
      short events = 0;
      if (!p.receives.empty()) events |= POLLIN;
      if (!p.sends.empty()) events |= POLLOUT;
      if (events) waiting.push_back({p.fd, events, 0});
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(timeout - (now - last));
    const int rc =
        ::poll(waiting.data(), waiting.size(),
               static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(left.count(), 100))));
    if (rc < 0 && errno != EINTR)
      fail("rank ", rank_, ": ", what, ": poll: ", std::strerror(errno));
  }
}

void PeerStreams::wait_all(const char* what, std::chrono::milliseconds timeout) {
  drive(what, timeout, [&] {
    for (const Peer& p : peers_) {
      if (!p.sends.empty() || !p.receives.empty()) return false;
    }
    return true;
  });
  sends_.clear();
  receives_.clear();
}

void PeerStreams::wait_receives(const char* what, std::chrono::milliseconds timeout,
                                const std::function<void(size_t)>& on_received) {
  for (size_t i = 0; i < receives_.size(); ++i) {
    drive(what, timeout, [&] { return receives_[i].done; });
    on_received(i);
  }
  receives_.clear();
}

void PeerStreams::lost(int peer, const char* what, const std::string& why) {
  close();
  fail("rank ", rank_, ": lost rank ", peer, ": ", what, ": ", why);
}

}  // namespace bdl::dist
