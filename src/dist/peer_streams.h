#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <vector>

namespace bdl::dist {

// One TCP stream to every other worker, for the sync's transfers: the waiting
// thread moves the bytes itself (non-blocking sockets, a short spin, then
// poll), as MPI's progress engine does, instead of handing each transfer to an
// I/O thread and sleeping until it signals. On a machine whose cores all
// compute, a hand-off to another thread costs a wake-up per transfer.
//
// Messages between two workers arrive in the order they were sent; a receive
// takes the next message from its peer, which must carry the tag and size the
// receive expects (the workers run the same program), or the call fails
// naming both.
class PeerStreams {
 public:
  // Listens on an ephemeral port of `host`.
  PeerStreams(int rank, int size, const std::string& host);
  ~PeerStreams();
  PeerStreams(const PeerStreams&) = delete;
  PeerStreams& operator=(const PeerStreams&) = delete;

  int port() const { return port_; }
  // Connects to the workers above this one and accepts those below, within the
  // timeout. hosts[r] and ports[r]: where worker r listens.
  void connect(const std::vector<std::string>& hosts, const std::vector<int>& ports,
               std::chrono::milliseconds timeout);

  // The data stays the caller's until wait_all() returns.
  void isend(const void* data, size_t bytes, int peer, int tag);
  void irecv(void* data, size_t bytes, int peer, int tag);
  // Until every posted transfer is done. `what` names the step in errors; a peer
  // that moves no byte for `timeout` is lost.
  void wait_all(const char* what, std::chrono::milliseconds timeout);
  // The receives, one by one in the order posted (on_received(i) as receive i
  // completes); sends keep moving meanwhile and finish in wait_all().
  void wait_receives(const char* what, std::chrono::milliseconds timeout,
                     const std::function<void(size_t)>& on_received);
  // Closes every stream: the peers' transfers with this worker fail at once.
  void close();

 private:
  struct Transfer {
    char* data;
    size_t bytes;
    int tag;
    size_t moved = 0;  // header bytes included for sends
    bool done = false;
  };
  struct Peer {
    int fd = -1;
    std::deque<size_t> sends;     // indexes into sends_
    std::deque<size_t> receives;  // indexes into receives_
    unsigned char header[16] = {};
    size_t header_read = 0;
  };
  // Moves what the sockets allow without blocking; true when a byte moved.
  bool progress(const char* what);
  bool progress_send(int peer, const char* what);
  bool progress_receive(int peer, const char* what);
  // Until done() (spinning a moment, then polling), or fails naming a peer.
  void drive(const char* what, std::chrono::milliseconds timeout,
             const std::function<bool()>& done);
  int stalled_peer() const;
  [[noreturn]] void lost(int peer, const char* what, const std::string& why);

  int rank_, size_;
  int listener_ = -1;
  int port_ = 0;
  std::vector<Peer> peers_;
  std::vector<Transfer> sends_, receives_;
};

}  // namespace bdl::dist
