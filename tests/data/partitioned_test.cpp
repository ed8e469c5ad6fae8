// Partitioned directories (bdl split): the manifest decides what a split is.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "bdl/data/dataset.h"
#include "support/errors.h"

namespace bdl::data {
namespace {

namespace fs = std::filesystem;
using testing::error_of;

class PartitionedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("bdl_parts_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // n samples of 4x4 images whose first pixel is the sample's index.
  static Dataset samples(int64_t n) {
    Tensor x = Tensor::zeros({n, 1, 4, 4}, DType::u8);
    Tensor y = Tensor::empty({n}, DType::i64);
    for (int64_t i = 0; i < n; ++i) {
      x.data<uint8_t>()[i * 16] = static_cast<uint8_t>(i);
      y.data<int64_t>()[i] = i % 3;
    }
    return Dataset(x, y, "samples");
  }
  std::string dir() const { return dir_.string(); }
  fs::path dir_;
};

TEST_F(PartitionedTest, WorkersTogetherReadEverySampleOnce) {
  write_partitioned(samples(40), dir(), Split::train, 4);
  EXPECT_EQ(partitioned_size(dir(), Split::train), 40);
  std::vector<int> seen(40, 0);
  for (int rank = 0; rank < 2; ++rank) {
    const Dataset d = partitioned_idx(dir(), Split::train, rank, 2);
    EXPECT_EQ(d.size(), 20);
    for (int64_t i = 0; i < d.size(); ++i) ++seen[d.features().data<uint8_t>()[i * 16]];
  }
  EXPECT_EQ(seen, std::vector<int>(40, 1));
}

TEST_F(PartitionedTest, SplittingAgainReplacesTheOldSplitWhole) {
  write_partitioned(samples(40), dir(), Split::train, 4);
  write_partitioned(samples(30), dir(), Split::train, 2);
  int parts = 0;
  for (const auto& e : fs::directory_iterator(dir_ / "train")) {
    parts += e.path().filename().string().find("images") != std::string::npos;
  }
  EXPECT_EQ(parts, 2);
  EXPECT_EQ(partitioned_idx(dir(), Split::train, 0, 1).size(), 30);
  for (const auto& e : fs::directory_iterator(dir_)) {
    EXPECT_EQ(e.path().filename().string()[0], 't') << "left behind: " << e.path();
  }
}

TEST_F(PartitionedTest, PartsThatWorkersCannotShareEquallyAreRefused) {
  write_partitioned(samples(30), dir(), Split::train, 3);
  EXPECT_EQ(error_of([&] { partitioned_idx(dir(), Split::train, 0, 2); }),
            (dir_ / "train").string() +
                ": 3 parts cannot be shared equally by 2 workers (some would train on more data "
                "than others, and an epoch would skip samples): split into a multiple of 2 parts");
}

TEST_F(PartitionedTest, AFileTheManifestDoesNotListIsAnError) {
  write_partitioned(samples(20), dir(), Split::train, 2);
  fs::copy_file(dir_ / "train/part-00000-images-idx3-ubyte.gz",
                dir_ / "train/part-00002-images-idx3-ubyte.gz");
  const std::string message = error_of([&] { partitioned_idx(dir(), Split::train, 0, 1); });
  EXPECT_NE(message.find("part 2 is not in"), std::string::npos) << message;
}

TEST_F(PartitionedTest, ASplitWithoutItsManifestIsRefused) {
  write_partitioned(samples(20), dir(), Split::train, 2);
  fs::remove(dir_ / "train/MANIFEST");
  const std::string message = error_of([&] { partitioned_idx(dir(), Split::train, 0, 1); });
  EXPECT_NE(message.find("no MANIFEST"), std::string::npos) << message;
}

TEST_F(PartitionedTest, ADamagedManifestNamesItsLine) {
  write_partitioned(samples(20), dir(), Split::train, 2);
  std::ofstream(dir_ / "train/MANIFEST") << "bdl-partitions 1\n0 10\n1 ten\n";
  EXPECT_EQ(error_of([&] { partitioned_idx(dir(), Split::train, 0, 1); }),
            (dir_ / "train/MANIFEST").string() + ": line 3 ('1 ten') is not 'PART SAMPLES'");
}

TEST_F(PartitionedTest, ADirectoryOfOtherFilesIsNotReplaced) {
  fs::create_directories(dir_ / "train");
  std::ofstream(dir_ / "train/notes.txt") << "mine";
  const std::string message =
      error_of([&] { write_partitioned(samples(20), dir(), Split::train, 2); });
  EXPECT_NE(message.find("notes.txt, which bdl did not write"), std::string::npos) << message;
  EXPECT_TRUE(fs::exists(dir_ / "train/notes.txt"));
}

TEST(CheckFinite, NamesTheSampleAndTheElement) {
  Tensor x = Tensor::zeros({3, 4});
  EXPECT_EQ(error_of([&] { check_finite(x, "x"); }), "no error");
  x.f32()[6] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(error_of([&] { check_finite(x, "x"); }),
            "x: sample 1 holds nan (at element 2); bdl takes finite numbers only");
  x.f32()[6] = 0;
  x.f32()[11] = -std::numeric_limits<float>::infinity();
  EXPECT_EQ(error_of([&] { Dataset(x, Tensor::zeros({3}, DType::i64), "d"); }),
            "d: features: sample 2 holds -inf (at element 3); bdl takes finite numbers only");
}

}  // namespace
}  // namespace bdl::data
