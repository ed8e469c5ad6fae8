// Datasets written as TFRecord shards (bdl convert): every sample round-trips
// in order through the tf.train.Example records, the description reads them
// back, and damage is named by shard and byte offset.
#include "bdl/data/record_shards.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "bdl/data/example.h"
#include "bdl/data/record_file.h"
#include "support/errors.h"
#include "support/temp_dir.h"

namespace bdl::data {
namespace {

namespace fs = std::filesystem;
using testing::error_of;

class RecordShardsTest : public ::testing::Test {
 protected:
  // Every record of a split, shard by shard.
  std::vector<Example> read_all(Split split) {
    std::vector<Example> out;
    const fs::path dir = dir_ / (split == Split::train ? "train" : "test");
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir)) {
      if (e.path().extension() == ".tfrecord") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    std::string data;
    for (const auto& f : files) {
      RecordReader r(f.string());
      while (r.next(data)) {
        out.push_back(
            decode_example({reinterpret_cast<const uint8_t*>(data.data()), data.size()}, "x"));
      }
    }
    return out;
  }

  testing::TempDir temp_{"bdl_shards"};
  const fs::path& dir_ = temp_.path();
};

// 10 images of 1x2x3 bytes (pixel k of sample i is 10 i + k), labels i % 4.
Dataset images(bool weighted) {
  Tensor x = Tensor::empty({10, 1, 2, 3}, DType::u8);
  Tensor y = Tensor::empty({10}, DType::i64);
  for (int64_t i = 0; i < 10; ++i) {
    for (int64_t k = 0; k < 6; ++k) x.data<uint8_t>()[i * 6 + k] = static_cast<uint8_t>(10 * i + k);
    y.data<int64_t>()[i] = i % 4;
  }
  Dataset d(x, y, "images");
  if (!weighted) return d;
  Tensor w({10});
  for (int64_t i = 0; i < 10; ++i) w.f32()[i] = 0.5f * static_cast<float>(i);
  return d.with_weights(w);
}

TEST_F(RecordShardsTest, ImagesRoundTripInOrderAcrossShards) {
  write_record_shards(images(true), dir_.string(), Split::train, 3);
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir_ / "train")) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"MANIFEST", "part-00000-of-00003.tfrecord",
                                             "part-00001-of-00003.tfrecord",
                                             "part-00002-of-00003.tfrecord"}));
  const auto records = read_all(Split::train);
  ASSERT_EQ(records.size(), 10u);
  for (int64_t i = 0; i < 10; ++i) {
    const Example& e = records[i];
    ASSERT_EQ(e.at("features").kind, Feature::Kind::bytes);
    const std::string& pixels = e.at("features").bytes.at(0);
    ASSERT_EQ(pixels.size(), 6u);
    for (int k = 0; k < 6; ++k) EXPECT_EQ(static_cast<uint8_t>(pixels[k]), 10 * i + k);
    EXPECT_EQ(e.at("shape").ints, (std::vector<int64_t>{1, 2, 3}));
    EXPECT_EQ(e.at("label").ints, std::vector<int64_t>{i % 4});
    EXPECT_EQ(e.at("weight").floats, std::vector<float>{0.5f * static_cast<float>(i)});
  }
  const ShardsInfo info = describe_record_shards(dir_.string(), Split::train);
  EXPECT_EQ(info.shards, 3);
  EXPECT_EQ(info.samples, 10);
  EXPECT_EQ(info.sample_shape, (Shape{1, 2, 3}));
  EXPECT_EQ(info.features, "u8");
  EXPECT_EQ(info.targets, "classes");
  EXPECT_EQ(info.classes, 4);
  EXPECT_TRUE(info.weighted);
  EXPECT_EQ(info.bytes, static_cast<int64_t>(fs::file_size(dir_ / "train" / shard_name(0, 3)) +
                                             fs::file_size(dir_ / "train" / shard_name(1, 3)) +
                                             fs::file_size(dir_ / "train" / shard_name(2, 3))));
  EXPECT_TRUE(is_record_shard_dir(dir_.string()));
}

TEST_F(RecordShardsTest, FloatFeaturesAndValueTargetsRoundTrip) {
  Tensor x({4, 3});
  Tensor y({4, 2});
  for (int64_t i = 0; i < 12; ++i) x.f32()[i] = 0.25f * static_cast<float>(i) - 1.f;
  for (int64_t i = 0; i < 8; ++i) y.f32()[i] = static_cast<float>(i);
  write_record_shards(Dataset(x, y, "table"), dir_.string(), Split::test, 2);
  const auto records = read_all(Split::test);
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[3].at("features").floats, (std::vector<float>{1.25f, 1.5f, 1.75f}));
  EXPECT_EQ(records[3].at("label").floats, (std::vector<float>{6.f, 7.f}));
  EXPECT_EQ(records[3].count("weight"), 0u);
  const ShardsInfo info = describe_record_shards(dir_.string(), Split::test);
  EXPECT_EQ(info.features, "f32");
  EXPECT_EQ(info.targets, "values");
  EXPECT_EQ(info.classes, 2);
}

TEST_F(RecordShardsTest, RewritingReplacesTheSplitWhole) {
  write_record_shards(images(false), dir_.string(), Split::train, 5);
  write_record_shards(images(false), dir_.string(), Split::train, 2);
  EXPECT_EQ(describe_record_shards(dir_.string(), Split::train).shards, 2);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_ / "train"), fs::directory_iterator{}), 3)
      << "two shards and the MANIFEST";
  EXPECT_NE(error_of([&] {
              write_record_shards(images(false), dir_.string(), Split::train, 11);
            }).find("10 samples cannot fill 11 shards"),
            std::string::npos);
  EXPECT_EQ(describe_record_shards(dir_.string(), Split::train).shards, 2) << "left as it was";
}

TEST_F(RecordShardsTest, DamageIsNamedByShardAndOffset) {
  write_record_shards(images(false), dir_.string(), Split::train, 2);
  const fs::path shard = dir_ / "train" / shard_name(1, 2);
  {
    std::fstream f(shard, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(20);
    f.put('\x7f');
  }
  const std::string error =
      error_of([&] { describe_record_shards(dir_.string(), Split::train, /*read_all=*/true); });
  EXPECT_NE(error.find(shard.string() + ": record at byte 0"), std::string::npos) << error;
  EXPECT_NE(error_of([&] {
              describe_record_shards((dir_ / "none").string(), Split::train);
            }).find("not a directory"),
            std::string::npos);
}

// Records other tools wrote, with a field missing or not matching, are named
// (the second record starts at byte 76: 16 bytes of framing and 60 of Example).
TEST_F(RecordShardsTest, RecordsThatDoNotFitAreNamed) {
  fs::create_directories(dir_ / "train");
  const std::string path = (dir_ / "train" / shard_name(0, 1)).string();
  auto write = [&](const Example& bad) {
    Example good;
    good["features"] = Feature::of_floats({1.f, 2.f});
    good["shape"] = Feature::of_ints({2});
    good["label"] = Feature::of_ints({1});
    RecordWriter w(path);
    w.write(encode_example(good));
    w.write(encode_example(bad));
    w.close();
    return error_of([&] { describe_record_shards(dir_.string(), Split::train); });
  };
  Example e;
  e["features"] = Feature::of_floats({1.f, 2.f, 3.f});
  e["shape"] = Feature::of_ints({2});
  e["label"] = Feature::of_ints({0});
  EXPECT_NE(write(e).find(path + ": record at byte 76: \"features\" holds 3 elements where "
                                 "\"shape\" [2] needs 2"),
            std::string::npos)
      << write(e);
  e["features"] = Feature::of_floats({1.f, 2.f});
  e.erase("label");
  EXPECT_NE(write(e).find("record at byte 76: the record has no \"label\" feature"),
            std::string::npos)
      << write(e);
  e["label"] = Feature::of_floats({0.5f});
  EXPECT_NE(write(e).find("a sample of shape [2] (f32, values) among samples of shape [2] (f32, "
                          "classes)"),
            std::string::npos)
      << write(e);
}

}  // namespace
}  // namespace bdl::data
