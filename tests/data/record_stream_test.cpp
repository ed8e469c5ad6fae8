// Record shards streamed into batches (data::record_shards): the same samples
// as the dataset in memory, each worker its own shards, an order that depends
// on (seed, epoch) only, resumable mid-epoch, and damaged records named or,
// when asked, skipped and counted.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "bdl/data/example.h"
#include "bdl/data/record_file.h"
#include "bdl/data/record_shards.h"
#include "bdl/data/source.h"
#include "data/sample_record.h"
#include "support/errors.h"
#include "support/temp_dir.h"

namespace bdl::data {
namespace {

namespace fs = std::filesystem;
using testing::error_of;

// n u8 "images" of shape (1, 2, 3) whose first pixel is the sample number, and
// class i % 5.
Dataset images(int64_t n) {
  Tensor x = Tensor::empty({n, 1, 2, 3}, DType::u8);
  Tensor y = Tensor::empty({n}, DType::i64);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t k = 0; k < 6; ++k) x.data<uint8_t>()[i * 6 + k] = static_cast<uint8_t>(i + k);
    y.data<int64_t>()[i] = i % 5;
  }
  return Dataset(x, y, "images");
}

// n f32 samples (2, 2) with value targets (3) and weights.
Dataset values(int64_t n) {
  Tensor x({n, 2, 2});
  Tensor y({n, 3});
  Tensor w({n});
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t k = 0; k < 4; ++k) x.f32()[i * 4 + k] = 0.25f * static_cast<float>(i) - k;
    for (int64_t k = 0; k < 3; ++k) y.f32()[i * 3 + k] = static_cast<float>(i * k);
    w.f32()[i] = 0.5f + static_cast<float>(i % 3);
  }
  return Dataset(x, y, "values").with_weights(w);
}

StreamOptions options(int64_t batch, bool shuffle, bool drop_last = true) {
  StreamOptions o;
  o.batch_size = batch;
  o.shuffle = shuffle;
  o.drop_last = drop_last;
  o.seed = 7;
  return o;
}

// Every batch of one epoch, copied out.
std::vector<MiniBatch> epoch(BatchStream& s, int64_t e, int64_t first = 0, int64_t batches = -1) {
  s.start_epoch(e, first, batches < 0 ? s.num_batches() : batches);
  std::vector<MiniBatch> out;
  while (const MiniBatch* b = s.next()) {
    MiniBatch copy;
    copy.input = b->input.clone();
    copy.target = b->target.clone();
    if (b->weight.defined()) copy.weight = b->weight.clone();
    out.push_back(copy);
  }
  return out;
}

// The sample numbers of an epoch's batches of images(): their first pixel
// (bytes are scaled to [0, 1]).
std::vector<int64_t> sample_ids(const std::vector<MiniBatch>& batches, float scale = 255.f) {
  std::vector<int64_t> ids;
  for (const auto& b : batches) {
    for (int64_t i = 0; i < b.size(); ++i) {
      ids.push_back(std::lround(b.input.f32()[i * 6] * scale));
    }
  }
  return ids;
}

void expect_same(const Tensor& a, const Tensor& b) {
  ASSERT_EQ(a.shape(), b.shape());
  ASSERT_EQ(a.dtype(), b.dtype());
  const auto bytes = static_cast<size_t>(a.numel()) * dtype_size(a.dtype());
  EXPECT_EQ(std::memcmp(a.raw_data(), b.raw_data(), bytes), 0);
}

class RecordStreamTest : public ::testing::Test {
 protected:
  testing::TempDir dir_{"bdl_stream"};
  std::string dir() const { return dir_.path().string(); }
  std::string shard(int64_t s, int64_t n) const {
    return (dir_.path() / "train" / shard_name(s, n)).string();
  }
};

TEST_F(RecordStreamTest, BatchesEqualThoseOfTheDatasetInMemory) {
  for (const bool u8 : {true, false}) {
    SCOPED_TRACE(u8 ? "u8 images, classes" : "f32 features, values, weights");
    const Dataset d = u8 ? images(23).map(normalize(0.5f, 0.25f)) : values(23).map({0.1f, 2.f});
    write_record_shards(d, dir(), Split::train, 3);
    Source streamed = record_shards(dir(), Split::train);
    if (u8) streamed = streamed.map(normalize(0.5f, 0.25f));
    if (!u8) streamed = streamed.map({0.1f, 2.f});
    EXPECT_EQ(streamed.size(), 23);
    EXPECT_EQ(streamed.sample_shape(), d.sample_shape());
    EXPECT_EQ(streamed.target_shape(), d.target_shape());
    EXPECT_EQ(streamed.num_classes(), d.num_classes());
    EXPECT_FALSE(streamed.in_memory());
    for (const bool drop_last : {true, false}) {
      auto from_disk = streamed.open(0, 1, options(5, false, drop_last));
      auto from_memory = Source(d).open(0, 1, options(5, false, drop_last));
      const auto a = epoch(*from_disk, 1), b = epoch(*from_memory, 1);
      ASSERT_EQ(a.size(), drop_last ? 4u : 5u);
      ASSERT_EQ(a.size(), b.size());
      for (size_t i = 0; i < a.size(); ++i) {
        expect_same(a[i].input, b[i].input);
        expect_same(a[i].target, b[i].target);
        EXPECT_EQ(a[i].weight.defined(), !u8);
        if (!u8) expect_same(a[i].weight, b[i].weight);
      }
    }
  }
}

TEST_F(RecordStreamTest, EveryEpochIsAPermutationThatDependsOnSeedAndEpochOnly) {
  write_record_shards(images(40), dir(), Split::train, 4);
  const Source s = record_shards(dir(), Split::train);
  StreamOptions o = options(8, true);
  o.shuffle_buffer = 6;
  const auto one = s.open(0, 1, o);
  const auto e1 = sample_ids(epoch(*one, 1));
  const auto e2 = sample_ids(epoch(*one, 2));
  std::vector<int64_t> all(40);
  for (int64_t i = 0; i < 40; ++i) all[i] = i;
  for (const auto* ids : {&e1, &e2}) {
    std::vector<int64_t> sorted = *ids;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, all);
  }
  EXPECT_NE(e1, e2);
  EXPECT_NE(e1, all);
  // Threads, prefetch depth and the stream object do not change the order.
  for (const int threads : {1, 3}) {
    StreamOptions p = o;
    p.decode_threads = threads;
    p.prefetch_batches = threads == 1 ? 1 : 7;
    const auto other = s.open(0, 1, p);
    EXPECT_EQ(sample_ids(epoch(*other, 2)), e2);
    EXPECT_EQ(sample_ids(epoch(*other, 1)), e1);
  }
  o.seed = 8;
  EXPECT_NE(sample_ids(epoch(*s.open(0, 1, o), 1)), e1);
}

TEST_F(RecordStreamTest, EachWorkerReadsItsOwnShards) {
  write_record_shards(images(40), dir(), Split::train, 4);
  const Source s = record_shards(dir(), Split::train);
  std::set<int64_t> seen;
  for (int rank = 0; rank < 2; ++rank) {
    const auto w = s.open(rank, 2, options(5, true));
    EXPECT_EQ(w->samples(), 20);
    const auto ids = sample_ids(epoch(*w, 1));
    EXPECT_EQ(ids.size(), 20u);
    for (int64_t id : ids) {
      // Shards hold 10 consecutive samples; worker r has shards r and r + 2.
      EXPECT_EQ((id / 10) % 2, rank) << id;
      EXPECT_TRUE(seen.insert(id).second) << id;
    }
  }
  EXPECT_NE(
      error_of([&] { s.open(0, 5, options(5, true)); }).find("4 shards cannot feed 5 workers"),
      std::string::npos);
  // An evaluation may leave a worker without shards.
  const auto idle = s.open(4, 5, options(5, false, false));
  EXPECT_EQ(epoch(*idle, 0).size(), 0u);
}

// A machine holding only its workers' shards (and the MANIFEST) trains on
// them; a worker whose shards are elsewhere, and a shard the MANIFEST does
// not list, are named.
TEST_F(RecordStreamTest, AMachineHoldsOnlyItsOwnShards) {
  write_record_shards(images(40), dir(), Split::train, 4);
  fs::remove(shard(1, 4));
  fs::remove(shard(3, 4));
  const Source s = record_shards(dir(), Split::train);
  EXPECT_EQ(s.size(), 40) << "the MANIFEST counts every shard";
  const auto mine = s.open(0, 2, options(5, true));
  EXPECT_EQ(sample_ids(epoch(*mine, 1)).size(), 20u);
  EXPECT_NE(error_of([&] {
              s.open(1, 2, options(5, true));
            }).find(shard(1, 4) + ": not on this machine; worker 1 of 2 reads shards 1, 3"),
            std::string::npos);
  std::ofstream(dir_.path() / "train" / "part-00009-of-00010.tfrecord") << "x";
  EXPECT_NE(error_of([&] {
              record_shards(dir(), Split::train);
            }).find("part-00009-of-00010.tfrecord: a shard the MANIFEST does not list"),
            std::string::npos);
}

TEST_F(RecordStreamTest, AResumedEpochContinuesTheSameOrder) {
  write_record_shards(images(60), dir(), Split::train, 3);
  const Source s = record_shards(dir(), Split::train);
  StreamOptions o = options(6, true);
  o.shuffle_buffer = 17;
  const auto whole = sample_ids(epoch(*s.open(0, 1, o), 3));
  const auto rest = sample_ids(epoch(*s.open(0, 1, o), 3, /*first=*/4));
  ASSERT_EQ(rest.size(), whole.size() - 24);
  EXPECT_TRUE(std::equal(rest.begin(), rest.end(), whole.begin() + 24));
  // Fewer batches than the share holds: the epoch stops there.
  EXPECT_EQ(epoch(*s.open(0, 1, o), 3, 0, 2).size(), 2u);
}

TEST_F(RecordStreamTest, TakeOneHotAndClassChecks) {
  write_record_shards(images(20), dir(), Split::train, 2);
  const Source s = record_shards(dir(), Split::train);
  EXPECT_EQ(s.take(13).size(), 13);
  EXPECT_EQ(sample_ids(epoch(*s.take(13).open(0, 1, options(4, false, false)), 0)).size(), 13u);
  const Source hot = s.one_hot(6);
  EXPECT_EQ(hot.target_kind(), TargetKind::values);
  const auto batches = epoch(*hot.open(0, 1, options(4, false)), 0);
  for (int64_t i = 0; i < 4; ++i) {
    for (int64_t c = 0; c < 6; ++c) {
      EXPECT_EQ(batches[1].target.f32()[i * 6 + c], c == (4 + i) % 5 ? 1.f : 0.f);
    }
  }
  const std::string error =
      error_of([&] { epoch(*s.with_classes(3).open(0, 1, options(4, false)), 0); });
  EXPECT_NE(error.find(": \"label\" is the class 3, outside [0, 3)"), std::string::npos) << error;
  EXPECT_NE(error.find(shard(0, 2) + ": record at byte "), std::string::npos) << error;
}

// Flips one byte of a shard's record `index` (of records `record_bytes` long).
void damage(const std::string& path, int64_t offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(offset);
  const char c = static_cast<char>(f.get());
  f.seekp(offset);
  f.put(static_cast<char>(c ^ 0x5a));
}

TEST_F(RecordStreamTest, ADamagedRecordIsNamedOrSkippedAndCounted) {
  write_record_shards(images(30), dir(), Split::train, 3);
  // Every record of images() is the same size: find it from the first shard.
  const auto shard_bytes = static_cast<int64_t>(fs::file_size(shard(1, 3)));
  const int64_t record = shard_bytes / 10;
  damage(shard(1, 3), 4 * record + 20);  // inside record 4's data: its checksum fails
  // The MANIFEST still matches (sizes are unchanged): the damage is met when read.
  const Source strict = record_shards(dir(), Split::train);
  const std::string error = error_of([&] { epoch(*strict.open(0, 1, options(5, true)), 1); });
  EXPECT_NE(error.find(shard(1, 3) + ": record at byte " + std::to_string(4 * record)),
            std::string::npos)
      << error;
  // The stream can start again after an error.
  const auto again = strict.open(0, 1, options(5, true));
  EXPECT_THROW(epoch(*again, 1), Error);
  EXPECT_THROW(epoch(*again, 2), Error);

  RecordShardOptions skip;
  skip.skip_bad_records = true;
  const Source lenient = record_shards(dir(), Split::train, skip);
  const auto s = lenient.open(0, 1, options(5, true));
  // Training runs whole epochs of the counted size: the lost record's place is
  // taken by one read again.
  const auto ids = sample_ids(epoch(*s, 1));
  EXPECT_EQ(ids.size(), 30u);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 14), 0);
  EXPECT_EQ(std::set<int64_t>(ids.begin(), ids.end()).size(), 29u);
  EXPECT_EQ(s->report().skipped, 1);
  EXPECT_NE(s->report().first_skipped.find(shard(1, 3)), std::string::npos);
  // An evaluation reads what there is.
  const auto e = lenient.open(0, 1, options(4, false, false));
  EXPECT_EQ(sample_ids(epoch(*e, 0)).size(), 29u);
}

TEST_F(RecordStreamTest, ACutShardAndAStaleManifestAreNamed) {
  write_record_shards(images(30), dir(), Split::train, 3);
  fs::resize_file(shard(2, 3), fs::file_size(shard(2, 3)) - 7);
  std::string error = error_of([&] { record_shards(dir(), Split::train); });
  EXPECT_NE(error.find(shard(2, 3) + ": "), std::string::npos) << error;
  EXPECT_NE(error.find("remove the MANIFEST"), std::string::npos) << error;
  fs::remove(dir_.path() / "train" / "MANIFEST");
  // Without a manifest the shards are read through at the start: the cut is met there.
  error = error_of([&] { record_shards(dir(), Split::train); });
  EXPECT_NE(error.find(shard(2, 3) + ": record at byte "), std::string::npos) << error;
}

TEST_F(RecordStreamTest, ShardsWithoutAManifestAreCountedByReadingThem) {
  write_record_shards(values(17), dir(), Split::train, 2);
  fs::remove(dir_.path() / "train" / "MANIFEST");
  const Source s = record_shards(dir(), Split::train);
  EXPECT_EQ(s.size(), 17);
  EXPECT_EQ(s.target_shape(), Shape({3}));
  const auto batches = epoch(*s.open(0, 1, options(4, true)), 1);
  EXPECT_EQ(batches.size(), 4u);
}

TEST_F(RecordStreamTest, EmptyShardsAreNamed) {
  fs::create_directories(dir_.path() / "train");
  std::ofstream(shard(0, 1)).close();
  EXPECT_NE(error_of([&] {
              record_shards(dir(), Split::train);
            }).find("/train: its 1 shards hold no records"),
            std::string::npos);
}

TEST_F(RecordStreamTest, DroppedMidEpochWithoutHanging) {
  write_record_shards(images(200), dir(), Split::train, 4);
  const Source s = record_shards(dir(), Split::train);
  StreamOptions o = options(2, true);
  o.prefetch_batches = 1;
  for (int i = 0; i < 20; ++i) {
    auto stream = s.open(0, 1, o);
    stream->start_epoch(1, 0, stream->num_batches());
    ASSERT_NE(stream->next(), nullptr);
    if (i % 2 == 0) stream->start_epoch(2, 3, stream->num_batches());
  }  // destroyed with its threads blocked on full slots
}

// The record reader takes what other writers put: unpacked lists, unknown
// fields and features, keys given twice (the last wins).
TEST(SampleRecord, ReadsEveryEncodingOfTheLayout) {
  auto key = [](int field, int type) { return static_cast<char>(field << 3 | type); };
  auto len = [](const std::string& s) { return std::string(1, static_cast<char>(s.size())) + s; };
  auto entry = [&](const std::string& name, const std::string& feature) {
    return std::string(1, key(1, 2)) +
           len(std::string(1, key(1, 2)) + len(name) + key(2, 2) + len(feature));
  };
  // FloatList with an empty packed run (found by example_fuzz: a memcpy to a
  // null pointer) and two unpacked values (fixed32 each), Int64List unpacked.
  std::string floats = std::string(1, key(1, 2)) + std::string(1, '\0') + key(1, 5) +
                       std::string("\x00\x00\x80\x3f", 4) + key(1, 5) +
                       std::string("\x00\x00\x00\x40", 4);
  const std::string features = std::string(1, key(2, 2)) + len(floats);
  const std::string shape = std::string(1, key(3, 2)) + len(std::string(1, key(1, 0)) + "\x02");
  const std::string label = std::string(1, key(3, 2)) + len(std::string(1, key(1, 0)) + "\x04");
  const std::string old_label = std::string(1, key(3, 2)) + len(std::string(1, key(1, 0)) + "\x09");
  const std::string other = std::string(1, key(1, 2)) + len(std::string(1, key(1, 2)) + len("x"));
  const std::string body = entry("label", old_label) + entry("features", features) +
                           entry("shape", shape) + entry("label", label) + entry("id", other) +
                           std::string(1, key(7, 0)) + "\x05";
  const std::string example = std::string(1, key(1, 2)) + len(body) + key(9, 5) + "abcd";
  detail::SampleRecord r;
  detail::read_sample_record({reinterpret_cast<const uint8_t*>(example.data()), example.size()}, r,
                             "here");
  EXPECT_EQ(r.feature_floats, (std::vector<float>{1.f, 2.f}));
  EXPECT_EQ(r.shape, Shape({2}));
  EXPECT_EQ(r.label_ints, (std::vector<int64_t>{4}));
  EXPECT_FALSE(r.has_weight);

  // The same record as bdl writes it (packed) reads alike.
  Example e;
  e["features"] = Feature::of_floats({1.f, 2.f});
  e["shape"] = Feature::of_ints({2});
  e["label"] = Feature::of_ints({4});
  e["weight"] = Feature::of_floats({0.5f});
  const std::string packed = encode_example(e);
  detail::read_sample_record({reinterpret_cast<const uint8_t*>(packed.data()), packed.size()}, r,
                             "here");
  EXPECT_EQ(r.feature_floats, (std::vector<float>{1.f, 2.f}));
  EXPECT_EQ(r.weight, (std::vector<float>{0.5f}));

  auto error = [&](const std::string& bytes) {
    return error_of([&] {
      detail::read_sample_record({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, r,
                                 "here");
    });
  };
  EXPECT_EQ(error(example.substr(0, example.size() - 9)),
            "here: not a tf.train.Example (" + std::to_string(example.size() - 9) + " bytes)");
  EXPECT_EQ(error(std::string("\x0b\x0c", 2)), "here: not a tf.train.Example (2 bytes)");
  Example wrong = e;
  wrong["shape"] = Feature::of_floats({2.f});
  EXPECT_EQ(error(encode_example(wrong)), "here: \"shape\" is a float_list, not an int64_list");
  wrong = e;
  wrong["label"] = Feature::of_bytes("cat");
  EXPECT_NE(error(encode_example(wrong)).find("\"label\" is a bytes_list"), std::string::npos);
  wrong = e;
  wrong["shape"] = Feature::of_ints({1 << 20, 1 << 20, 1 << 20});
  EXPECT_NE(error(encode_example(wrong)).find("needs 1099511627776"), std::string::npos);
  wrong = e;
  wrong["shape"] = Feature::of_ints({-2});
  EXPECT_NE(error(encode_example(wrong)).find("out of range"), std::string::npos);
}

}  // namespace
}  // namespace bdl::data
