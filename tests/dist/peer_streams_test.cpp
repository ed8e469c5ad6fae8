// bdl's streams between workers (the sync's transfers in a launch without MPI):
// two or three workers as threads of this process, over loopback TCP.
#include "dist/peer_streams.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "bdl/core/error.h"

namespace bdl::dist {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// n connected workers.
std::vector<std::unique_ptr<PeerStreams>> world_of(int n) {
  std::vector<std::unique_ptr<PeerStreams>> w;
  std::vector<std::string> hosts;
  std::vector<int> ports;
  for (int r = 0; r < n; ++r) {
    w.push_back(std::make_unique<PeerStreams>(r, n, "127.0.0.1"));
    hosts.push_back("127.0.0.1");
    ports.push_back(w.back()->port());
  }
  std::vector<std::future<void>> joins;
  for (int r = 0; r < n; ++r) {
    joins.push_back(std::async(std::launch::async, [&, r] {
      w[static_cast<size_t>(r)]->connect(hosts, ports, milliseconds(5000));
    }));
  }
  for (auto& j : joins) j.get();
  return w;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(PeerStreams, BigMessagesBothWaysAtOnceArriveWhole) {
  auto w = world_of(2);
  // Far larger than the sockets' buffers: each side must read while it writes.
  const size_t n = 6 << 20;
  std::vector<std::vector<float>> out(2), in(2);
  for (int r = 0; r < 2; ++r) {
    out[r].resize(n);
    std::iota(out[r].begin(), out[r].end(), static_cast<float>(r * 1000));
    in[r].assign(n, -1.f);
  }
  std::vector<std::future<void>> runs;
  for (int r = 0; r < 2; ++r) {
    runs.push_back(std::async(std::launch::async, [&, r] {
      PeerStreams& s = *w[static_cast<size_t>(r)];
      const int peer = 1 - r;
      s.irecv(in[r].data(), n * 4, peer, 7);
      s.isend(out[r].data(), n * 4, peer, 7);
      s.isend(nullptr, 0, peer, 8);  // an empty message
      char empty = 0;
      s.irecv(&empty, 0, peer, 8);
      s.wait_all("exchange", milliseconds(10000));
    }));
  }
  for (auto& f : runs) f.get();
  EXPECT_EQ(in[0], out[1]);
  EXPECT_EQ(in[1], out[0]);
}

TEST(PeerStreams, ReceivesCompleteInTheOrderPostedAcrossPeers) {
  auto w = world_of(3);
  std::vector<int> order;
  std::vector<int> got(4, -1);
  auto sender = [&](int r, int value) {
    w[static_cast<size_t>(r)]->isend(&value, sizeof(value), 0, 3);
    w[static_cast<size_t>(r)]->isend(&value, sizeof(value), 0, 3);
    w[static_cast<size_t>(r)]->wait_all("send", milliseconds(5000));
  };
  auto a = std::async(std::launch::async, sender, 1, 11);
  auto b = std::async(std::launch::async, sender, 2, 22);
  PeerStreams& root = *w[0];
  root.irecv(&got[0], 4, 2, 3);
  root.irecv(&got[1], 4, 1, 3);
  root.irecv(&got[2], 4, 2, 3);
  root.irecv(&got[3], 4, 1, 3);
  root.wait_receives("gather", milliseconds(5000), [&](size_t i) {
    order.push_back(static_cast<int>(i));
    EXPECT_NE(got[i], -1) << "receive " << i << " reported before it arrived";
  });
  root.wait_all("gather", milliseconds(5000));
  a.get();
  b.get();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(got, (std::vector<int>{22, 11, 22, 11}));
}

TEST(PeerStreams, AMessageOfAnotherTagOrSizeIsRefusedNamingBoth) {
  auto w = world_of(2);
  int value = 5;
  w[1]->isend(&value, 4, 0, 41);
  auto sent = std::async(std::launch::async, [&] {
    return error_of([&] { w[1]->wait_all("sending", milliseconds(3000)); });
  });
  double wrong = 0;
  w[0]->irecv(&wrong, 8, 1, 42);
  const std::string e = error_of([&] { w[0]->wait_all("the test's step", milliseconds(3000)); });
  EXPECT_NE(e.find("rank 0: the test's step: rank 1 sent a message of tag 41 and 4 bytes where one "
                   "of tag 42 and 8 bytes was expected"),
            std::string::npos)
      << e;
  sent.get();  // the 4 bytes fit in the socket: the sender may finish first
}

TEST(PeerStreams, APeerThatClosesIsLostAtOnce) {
  auto w = world_of(2);
  float x = 0;
  w[0]->irecv(&x, 4, 1, 1);
  const auto start = Clock::now();
  auto closing = std::async(std::launch::async, [&] {
    std::this_thread::sleep_for(milliseconds(50));
    w[1]->close();
  });
  const std::string e =
      error_of([&] { w[0]->wait_all("all-gather of weights", milliseconds(20000)); });
  closing.get();
  EXPECT_NE(e.find("rank 0: lost rank 1: all-gather of weights: it closed the connection"),
            std::string::npos)
      << e;
  EXPECT_LT(Clock::now() - start, milliseconds(5000));
  // The streams are closed: a later transfer is refused rather than hanging.
  EXPECT_NE(error_of([&] { w[0]->irecv(&x, 4, 1, 1); }).find("no stream from rank 1"),
            std::string::npos);
}

TEST(PeerStreams, ASilentPeerIsLostAfterTheTimeout) {
  auto w = world_of(2);
  float x = 0;
  w[1]->irecv(&x, 4, 0, 1);
  const auto start = Clock::now();
  const std::string e = error_of([&] { w[1]->wait_all("reduce-scatter", milliseconds(300)); });
  const auto took = Clock::now() - start;
  EXPECT_NE(e.find("rank 1: lost rank 0: reduce-scatter: it made no progress for 300 ms"),
            std::string::npos)
      << e;
  EXPECT_GE(took, milliseconds(300));
  EXPECT_LT(took, milliseconds(3000));
}

TEST(PeerStreams, AWorkerThatNeverConnectsEndsTheJoinInTime) {
  PeerStreams lonely(2, 3, "127.0.0.1");
  PeerStreams other(1, 3, "127.0.0.1");
  const std::vector<std::string> hosts(3, "127.0.0.1");
  const std::vector<int> ports = {1, other.port(), lonely.port()};
  const auto start = Clock::now();
  auto one = std::async(std::launch::async, [&] {
    return error_of([&] { other.connect(hosts, ports, milliseconds(500)); });
  });
  const std::string e = error_of([&] { lonely.connect(hosts, ports, milliseconds(500)); });
  EXPECT_NE(e.find("rank 2: 1 of the ranks below it did not connect within 500 ms"),
            std::string::npos)
      << e;
  EXPECT_NE(one.get().find("rank 1: 1 of the ranks below it did not connect"), std::string::npos);
  EXPECT_LT(Clock::now() - start, milliseconds(3000));
}

}  // namespace
}  // namespace bdl::dist
