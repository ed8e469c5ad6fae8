#pragma once

// Blocking socket I/O with a deadline, for the start-up exchanges (rendezvous,
// joining the peer streams): every wait ends at the deadline with an error
// naming the other side.
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

namespace bdl::dist::net {

using Clock = std::chrono::steady_clock;

class Socket {
 public:
  explicit Socket(int fd = -1) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(Socket&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Socket& operator=(Socket&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  int fd() const { return fd_; }
  // The descriptor becomes the caller's.
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

int remaining_ms(Clock::time_point deadline);
// Waits for `events` on fd until the deadline; false when it passed.
bool await(int fd, short events, Clock::time_point deadline);
void send_all(int fd, const void* data, size_t bytes, Clock::time_point deadline,
              const std::string& to);
void recv_all(int fd, void* data, size_t bytes, Clock::time_point deadline,
              const std::string& from);
// In network byte order.
void send_u32(int fd, uint32_t v, Clock::time_point deadline, const std::string& to);
uint32_t recv_u32(int fd, Clock::time_point deadline, const std::string& from);

}  // namespace bdl::dist::net
