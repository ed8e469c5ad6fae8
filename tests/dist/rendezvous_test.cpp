// The rendezvous of Gloo workers without MPI, in one process (threads as
// workers): tcp_all_gather (rank 0 serves), TcpRelay (a server that is not a
// worker, as on a Spark driver), and what each says when a worker is missing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <future>
#include <string>
#include <thread>
#include <vector>

#include "bdl/core/error.h"
#include "bdl/dist/gloo_communicator.h"

namespace bdl::dist {
namespace {

using namespace std::chrono_literals;

std::string blob_of(int rank, const std::string& address) {
  return "worker " + std::to_string(rank) + " at " + address;
}

TEST(TcpRelay, EveryWorkerGetsEveryBlobInRankOrder) {
  TcpRelay relay(3, 10s);
  std::thread server([&] { relay.serve(); });
  std::vector<std::future<std::vector<std::string>>> workers;
  for (int r = 2; r >= 0; --r) {  // arriving in any order
    workers.push_back(std::async(std::launch::async, [&relay, r] {
      return tcp_join(
          "127.0.0.1", relay.port(), r, 3, [r](const std::string& a) { return blob_of(r, a); },
          10s);
    }));
  }
  for (auto& w : workers) {
    const auto blobs = w.get();
    ASSERT_EQ(blobs.size(), 3u);
    for (int r = 0; r < 3; ++r) EXPECT_EQ(blobs[r], blob_of(r, "127.0.0.1"));
  }
  server.join();
}

TEST(TcpRelay, AMissingWorkerIsNamedToTheServerAndToTheOthers) {
  TcpRelay relay(3, 1500ms);
  std::promise<std::string> served;
  std::thread server([&] {
    try {
      relay.serve();
      served.set_value("");
    } catch (const Error& e) {
      served.set_value(e.what());
    }
  });
  auto join = [&](int r) {
    try {
      tcp_join(
          "127.0.0.1", relay.port(), r, 3, [r](const std::string& a) { return blob_of(r, a); },
          1500ms);
      return std::string();
    } catch (const Error& e) {
      return std::string(e.what());
    }
  };
  auto w0 = std::async(std::launch::async, join, 0);
  auto w2 = std::async(std::launch::async, join, 2);
  const std::string said = served.get_future().get();
  EXPECT_NE(said.find("rank 1 of 3 did not reach the rendezvous on port"), std::string::npos)
      << said;
  EXPECT_NE(w0.get().find("the rendezvous says: rank 1 of 3"), std::string::npos);
  EXPECT_NE(w2.get().find("the rendezvous says: rank 1 of 3"), std::string::npos);
  server.join();
}

TEST(TcpRelay, ARankTakenTwiceIsRefused) {
  TcpRelay relay(2, 5s);
  std::promise<std::string> served;
  std::thread server([&] {
    try {
      relay.serve();
      served.set_value("");
    } catch (const Error& e) {
      served.set_value(e.what());
    }
  });
  auto join = [&] {
    try {
      tcp_join(
          "127.0.0.1", relay.port(), 1, 2, [](const std::string& a) { return a; }, 5s);
      return std::string();
    } catch (const Error& e) {
      return std::string(e.what());
    }
  };
  auto a = std::async(std::launch::async, join);
  auto b = std::async(std::launch::async, join);
  EXPECT_NE(served.get_future().get().find("two workers say they are rank 1"), std::string::npos);
  const std::string said = a.get() + b.get();
  EXPECT_NE(said.find("RANK repeated"), std::string::npos) << said;
  server.join();
}

TEST(TcpAllGather, RankZeroServesAndGivesItsOwnAddress) {
  const int port = 20000 + static_cast<int>(::getpid() % 10000);
  std::vector<std::future<std::vector<std::string>>> workers;
  for (int r = 0; r < 3; ++r) {
    workers.push_back(std::async(std::launch::async, [r, port] {
      return tcp_all_gather(
          "127.0.0.1", port, r, 3, [r](const std::string& a) { return blob_of(r, a); }, 10s);
    }));
  }
  for (auto& w : workers) {
    const auto blobs = w.get();
    for (int r = 0; r < 3; ++r) EXPECT_EQ(blobs[r], blob_of(r, "127.0.0.1"));
  }
}

}  // namespace
}  // namespace bdl::dist
