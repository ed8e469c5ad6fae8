#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bdl/dist/communicator.h"

namespace bdl::dist {

// Workers that find each other without mpirun: Gloo's TCP transport, one socket
// per pair of workers. Joining takes two phases, so that any launcher that can
// exchange a few bytes between its tasks (Spark's BarrierTaskContext.allGather,
// a TCP rendezvous, a shared file) can start the workers:
//   1. GlooJoin opens one listening socket per peer on `host` and describes
//      them in address_blob();
//   2. the launcher gives every worker every worker's blob, rank-ordered, and
//      connect() returns the communicator.
class GlooJoin {
 public:
  // host: the address the other workers reach this one by (an IP or a name),
  // never a loopback address unless every worker runs on this machine.
  GlooJoin(int rank, int size, const std::string& host, std::chrono::milliseconds timeout);
  ~GlooJoin();
  GlooJoin(const GlooJoin&) = delete;
  GlooJoin& operator=(const GlooJoin&) = delete;

  int rank() const;
  int size() const;
  // This worker's listening addresses, one per peer, and its host: bytes to hand
  // to every other worker unchanged.
  const std::string& address_blob() const;
  // Connects to every peer (in rank order, as each peer does) within the timeout.
  // blobs[r] is worker r's address_blob(). The join is spent afterwards.
  std::unique_ptr<Communicator> connect(const std::vector<std::string>& blobs);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// The launch of torchrun and its peers: every process has RANK, WORLD_SIZE,
// MASTER_ADDR and MASTER_PORT in its environment.
bool launched_by_env();

// Exchanges one blob per worker through a TCP server that rank 0 runs on
// master_port: every worker sends its blob and receives all of them,
// rank-ordered. make_blob gets the local address this worker reaches the others
// by (the address of its connection to the master), so that a worker need not
// know its own address. Fails naming the missing ranks when not all of them
// arrive within the timeout.
std::vector<std::string> tcp_all_gather(
    const std::string& master_addr, int master_port, int rank, int size,
    const std::function<std::string(const std::string&)>& make_blob,
    std::chrono::milliseconds timeout);

// A rendezvous point that is not a worker (bdl.spark runs one on the Spark
// driver): every worker, rank 0 included, connects with tcp_join, sends its
// blob and receives all of them. Listens on an ephemeral port of every IPv4
// address.
class TcpRelay {
 public:
  TcpRelay(int size, std::chrono::milliseconds timeout);
  ~TcpRelay();
  TcpRelay(const TcpRelay&) = delete;
  TcpRelay& operator=(const TcpRelay&) = delete;
  int port() const;
  // Until every worker has every blob; past the timeout, fails naming the
  // workers that never came (and tells the others).
  void serve();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// A worker's side of a TcpRelay at host:port: as tcp_all_gather.
std::vector<std::string> tcp_join(const std::string& host, int port, int rank, int size,
                                  const std::function<std::string(const std::string&)>& make_blob,
                                  std::chrono::milliseconds timeout);

// The world of an environment launch: Gloo over TCP, joined through
// tcp_all_gather at MASTER_ADDR:MASTER_PORT within start_timeout(). BDL_HOST,
// when set, is the address the other workers reach this one by.
std::unique_ptr<Communicator> env_world();

}  // namespace bdl::dist
