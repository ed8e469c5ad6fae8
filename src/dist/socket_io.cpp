#include "socket_io.h"

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "bdl/core/error.h"

namespace bdl::dist::net {

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() > 0 ? static_cast<int>(std::min<int64_t>(left.count(), 1 << 30)) : 0;
}

bool await(int fd, short events, Clock::time_point deadline) {
  while (true) {
    pollfd p{fd, events, 0};
    const int rc = ::poll(&p, 1, remaining_ms(deadline));
    if (rc > 0) return true;
    if (rc == 0) return false;
    if (errno != EINTR) fail("rendezvous: poll: ", std::strerror(errno));
  }
}

void send_all(int fd, const void* data, size_t bytes, Clock::time_point deadline,
              const std::string& to) {
  const char* p = static_cast<const char*>(data);
  while (bytes > 0) {
    BDL_CHECK(await(fd, POLLOUT, deadline), "rendezvous: ", to,
              " took nothing before the deadline");
    const ssize_t n = ::send(fd, p, bytes, MSG_NOSIGNAL);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    BDL_CHECK(n > 0, "rendezvous: sending to ", to, ": ", std::strerror(errno));
    p += n;
    bytes -= static_cast<size_t>(n);
  }
}

void recv_all(int fd, void* data, size_t bytes, Clock::time_point deadline,
              const std::string& from) {
  char* p = static_cast<char*>(data);
  while (bytes > 0) {
    BDL_CHECK(await(fd, POLLIN, deadline), "rendezvous: ", from,
              " sent nothing before the deadline");
    const ssize_t n = ::recv(fd, p, bytes, 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    BDL_CHECK(n != 0, "rendezvous: ", from, " closed the connection");
    BDL_CHECK(n > 0, "rendezvous: receiving from ", from, ": ", std::strerror(errno));
    p += n;
    bytes -= static_cast<size_t>(n);
  }
}

void send_u32(int fd, uint32_t v, Clock::time_point deadline, const std::string& to) {
  const uint32_t wire = htonl(v);
  send_all(fd, &wire, 4, deadline, to);
}

uint32_t recv_u32(int fd, Clock::time_point deadline, const std::string& from) {
  uint32_t wire = 0;
  recv_all(fd, &wire, 4, deadline, from);
  return ntohl(wire);
}

}  // namespace bdl::dist::net
