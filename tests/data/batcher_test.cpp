#include "bdl/data/batcher.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

namespace bdl::data {
namespace {

Dataset tiny(int64_t n) {
  Tensor x({n, 1, 2, 2}, DType::u8);
  Tensor y({n}, DType::i64);
  for (int64_t i = 0; i < n; ++i) {
    for (int j = 0; j < 4; ++j) x.data<uint8_t>()[i * 4 + j] = static_cast<uint8_t>(i * 4 + j);
    y.data<int64_t>()[i] = i;
  }
  return Dataset(x, y, "tiny");
}

TEST(Dataset, PartitionsCoverEverySampleOnce) {
  const Dataset d = tiny(10).partitioned(3);
  ASSERT_EQ(d.partitions().size(), 3u);
  int64_t next = 0;
  for (const auto& p : d.partitions()) {
    EXPECT_EQ(p.begin, next);
    next = p.end;
  }
  EXPECT_EQ(next, 10);
  EXPECT_THROW(tiny(2).partitioned(3), Error);
}

TEST(Batcher, NormalisesAndDropsTheLastPartialBatch) {
  const Dataset d = tiny(5).map(normalize(0.5f, 0.25f));
  Batcher b(d, 2, /*drop_last=*/true);
  const std::vector<int64_t> parts{0};
  b.set_order(epoch_order(d, parts, 1, 1, false));
  EXPECT_EQ(b.num_batches(), 2);
  const MiniBatch& m = b.batch(1);
  EXPECT_EQ(m.input.shape(), (Shape{2, 1, 2, 2}));
  EXPECT_EQ(m.target.at_i64({0}), 2);
  // Sample 2, pixel 1 has raw value 9: (9 / 255 - 0.5) / 0.25.
  EXPECT_NEAR(m.input.at({0, 0, 0, 1}), (9.f / 255.f - 0.5f) / 0.25f, 1e-6);
  Batcher keep(d, 2, /*drop_last=*/false);
  keep.set_order(epoch_order(d, parts, 1, 1, false));
  EXPECT_EQ(keep.num_batches(), 3);
  EXPECT_EQ(keep.batch(2).size(), 1);
}

TEST(Batcher, ShuffleIsSeededPerEpochAndAPermutation) {
  const Dataset d = tiny(50).partitioned(4);
  const std::vector<int64_t> parts{0, 1, 2, 3};
  const auto a = epoch_order(d, parts, 7, 1, true);
  EXPECT_EQ(a, epoch_order(d, parts, 7, 1, true));
  EXPECT_NE(a, epoch_order(d, parts, 7, 2, true));
  EXPECT_NE(a, epoch_order(d, parts, 8, 1, true));
  auto sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 50; ++i) EXPECT_EQ(sorted[i], i);
  const std::vector<int64_t> some{1, 3};
  const auto part = epoch_order(d, some, 7, 1, false);
  EXPECT_EQ(part.front(), d.partitions()[1].begin);
  EXPECT_EQ(static_cast<int64_t>(part.size()), d.partitions()[1].size() + d.partitions()[3].size());
}

}  // namespace
}  // namespace bdl::data

namespace bdl::data {
namespace {

// A machine holds only its own parts: worker 1 of 2 loads parts 1 and 3 and
// needs no other file.
TEST(PartitionedDirectory, EachWorkerReadsOnlyItsParts) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("bdl_parts_" + std::to_string(::getpid()));
  Tensor x({10, 1, 2, 2}, DType::u8);
  Tensor y({10}, DType::i64);
  for (int64_t i = 0; i < 10; ++i) {
    y.data<int64_t>()[i] = i;
    x.data<uint8_t>()[i * 4] = static_cast<uint8_t>(100 + i);
  }
  write_partitioned(Dataset(x, y, "ten"), dir.string(), Split::train, 4);
  for (int p : {0, 2}) {
    fs::remove(dir / "train" / ("part-0000" + std::to_string(p) + "-images-idx3-ubyte.gz"));
    fs::remove(dir / "train" / ("part-0000" + std::to_string(p) + "-labels-idx1-ubyte.gz"));
  }
  const Dataset mine = partitioned_idx(dir.string(), Split::train, 1, 2);
  EXPECT_TRUE(mine.is_worker_shard());
  ASSERT_EQ(mine.partitions().size(), 2u);
  // Parts of 10 in 4: [0,2) [2,5) [5,7) [7,10); worker 1 has parts 1 and 3.
  std::vector<int64_t> labels;
  for (int64_t i = 0; i < mine.size(); ++i) labels.push_back(mine.targets().at_i64({i}));
  EXPECT_EQ(labels, (std::vector<int64_t>{2, 3, 4, 7, 8, 9}));
  EXPECT_EQ(mine.features().at({3, 0, 0, 0}), 107.f);
  EXPECT_THROW(partitioned_idx(dir.string(), Split::train, 0, 2), Error);  // its parts are gone
  fs::remove_all(dir);
}

}  // namespace
}  // namespace bdl::data
