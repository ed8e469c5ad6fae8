// TFRecord files: round trips of records and tf.train.Example messages, a file
// written by TensorBoard's own writer with an independent protobuf encoder
// (tools/fixtures/gen_tfrecord.py), resuming at an offset, and every kind of
// damage named by file and byte offset.
#include "bdl/data/record_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "bdl/core/error.h"
#include "bdl/data/example.h"
#include "support/temp_dir.h"

namespace bdl::data {
namespace {

namespace fs = std::filesystem;

class RecordFile : public ::testing::Test {
 protected:
  // Records of 0, 1, 100 and 70,000 bytes (the last longer than any buffer).
  std::vector<std::string> write_some() {
    std::vector<std::string> records = {"", "a", std::string(100, 'x'), std::string(70000, '\1')};
    for (size_t i = 0; i < records[3].size(); i += 7) records[3][i] = static_cast<char>(i);
    RecordWriter w(path_);
    for (const auto& r : records) w.write(r);
    EXPECT_EQ(w.records(), 4);
    EXPECT_EQ(w.bytes(), static_cast<int64_t>(4 * 16 + 70101));
    w.close();
    return records;
  }

  // Overwrites one byte of the file.
  void poke(int64_t offset, char value) {
    std::fstream f(path_, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(offset);
    f.put(value);
  }

  std::string error_of_reading_all() {
    RecordReader r(path_);
    std::string data;
    try {
      while (r.next(data)) {
      }
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }

  testing::TempDir dir_{"bdl_records"};
  std::string path_ = dir_.file("part-00000.tfrecord");
};

TEST_F(RecordFile, RoundTripsAndResumesAtAnOffset) {
  const auto records = write_some();
  RecordReader r(path_);
  std::string data;
  std::vector<int64_t> offsets;
  for (const auto& want : records) {
    offsets.push_back(r.offset());
    ASSERT_TRUE(r.next(data));
    EXPECT_EQ(data, want);
  }
  EXPECT_FALSE(r.next(data));
  EXPECT_EQ(r.offset(), r.file_size());
  EXPECT_EQ(offsets, (std::vector<int64_t>{0, 16, 33, 149}));
  r.seek(offsets[2]);
  ASSERT_TRUE(r.next(data));
  EXPECT_EQ(data, records[2]);
}

TEST_F(RecordFile, DamagedDataIsNamedAndCanBeSkipped) {
  write_some();
  poke(33 + 12 + 50, 'y');  // inside the third record's data
  RecordReader r(path_);
  std::string data;
  ASSERT_TRUE(r.next(data));
  ASSERT_TRUE(r.next(data));
  try {
    r.next(data);
    FAIL() << "a damaged record was read";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path_ + ": record at byte 33 (100 bytes): its data fails "
                                                 "its checksum"),
              std::string::npos)
        << e.what();
  }
  ASSERT_TRUE(r.skip_damaged());
  ASSERT_TRUE(r.next(data));
  EXPECT_EQ(data.size(), 70000u);
}

TEST_F(RecordFile, DamagedLengthStopsTheFile) {
  write_some();
  poke(16 + 3, 'z');  // the second record's length
  RecordReader r(path_);
  std::string data;
  ASSERT_TRUE(r.next(data));
  EXPECT_THROW(r.next(data), Error);
  EXPECT_FALSE(r.skip_damaged()) << "no framing is left to resume at";
  EXPECT_NE(error_of_reading_all().find("record at byte 16: its length field fails its checksum"),
            std::string::npos);
}

TEST_F(RecordFile, TruncatedFilesAreNamed) {
  write_some();
  const auto size = fs::file_size(path_);
  fs::resize_file(path_, size - 10);  // inside the last record's data
  EXPECT_NE(error_of_reading_all().find("record at byte 149 says it holds 70000 bytes but the "
                                        "file ends"),
            std::string::npos)
      << error_of_reading_all();
  fs::resize_file(path_, 149 + 5);  // inside the last record's header
  EXPECT_NE(error_of_reading_all().find("record at byte 149 is cut short: 5 bytes left"),
            std::string::npos)
      << error_of_reading_all();
}

TEST_F(RecordFile, OtherFilesAreRefused) {
  std::ofstream(path_) << "label,x1,x2\n1,0.5,0.25\n0,0.1,0.2\n";
  EXPECT_NE(error_of_reading_all().find(path_ + ": record at byte 0: its length field fails its "
                                                "checksum (damaged, or not a TFRecord file)"),
            std::string::npos);
  EXPECT_THROW(RecordReader(dir_.file("missing")), Error);
}

TEST(Example, RoundTripsEveryKindDeterministically) {
  Example e;
  e["image"] = Feature::of_bytes(std::string("\0\1\2\xff", 4));
  e["label"] = Feature::of_ints({-3, 1LL << 40});
  e["x"] = Feature::of_floats({0.5f, -2.f, 1e-30f});
  e["none"] = Feature::of_floats({});
  const std::string bytes = encode_example(e);
  EXPECT_EQ(bytes, encode_example(e));
  const Example back =
      decode_example({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, "here");
  ASSERT_EQ(back.size(), 4u);
  EXPECT_EQ(back.at("image").kind, Feature::Kind::bytes);
  EXPECT_EQ(back.at("image").bytes.at(0), std::string("\0\1\2\xff", 4));
  EXPECT_EQ(back.at("label").ints, (std::vector<int64_t>{-3, 1LL << 40}));
  EXPECT_EQ(back.at("x").floats, (std::vector<float>{0.5f, -2.f, 1e-30f}));
  EXPECT_EQ(back.at("none").kind, Feature::Kind::floats);
  EXPECT_EQ(back.at("none").size(), 0u);
}

TEST(Example, GarbageIsNamed) {
  const std::string junk = "\xff\xff\xff\xff\xff";
  try {
    decode_example({reinterpret_cast<const uint8_t*>(junk.data()), junk.size()},
                   "shard.tfrecord: record at byte 40");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("shard.tfrecord: record at byte 40: not a "
                                         "tf.train.Example"),
              std::string::npos);
  }
}

// Framed by TensorBoard's writer, encoded by a separate protobuf encoder.
TEST(Example, ReadsAFileOtherToolsWrote) {
  RecordReader r(std::string(BDL_FIXTURE_DIR) + "/examples.tfrecord");
  std::string data;
  std::vector<Example> examples;
  while (r.next(data)) {
    examples.push_back(
        decode_example({reinterpret_cast<const uint8_t*>(data.data()), data.size()}, r.path()));
  }
  ASSERT_EQ(examples.size(), 3u);
  std::string image(12, '\0');
  for (int i = 0; i < 12; ++i) image[i] = static_cast<char>(i);
  EXPECT_EQ(examples[0].at("image").bytes.at(0), image);
  EXPECT_EQ(examples[0].at("label").ints, std::vector<int64_t>{3});
  EXPECT_EQ(examples[0].at("shape").ints, (std::vector<int64_t>{1, 3, 4}));
  EXPECT_EQ(examples[1].at("label").ints, std::vector<int64_t>{-7});
  EXPECT_EQ(examples[1].at("weights").floats, (std::vector<float>{0.5f, -1.25f, 3e-3f}));
  EXPECT_EQ(examples[2].at("label").ints, std::vector<int64_t>{1LL << 40});
  EXPECT_EQ(examples[2].at("empty").kind, Feature::Kind::floats);
  EXPECT_EQ(examples[2].at("empty").size(), 0u);
}

}  // namespace
}  // namespace bdl::data

namespace bdl::data {
namespace {

// CRC-32C bit by bit, as its definition reads: what the fast paths (a table,
// SSE4.2's crc32 instruction 8 bytes at a time) must equal at every length and
// alignment.
uint32_t crc32c_by_bits(const uint8_t* p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
  }
  return c ^ 0xFFFFFFFFu;
}

TEST(Crc32c, EqualsTheBitwiseDefinitionAtEveryLengthAndAlignment) {
  std::vector<uint8_t> bytes(300);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 131 + 7);
  for (size_t start = 0; start < 9; ++start) {
    for (size_t n = 0; start + n <= bytes.size(); n += 1 + n / 8) {
      ASSERT_EQ(crc32c({bytes.data() + start, n}), crc32c_by_bits(bytes.data() + start, n))
          << "start " << start << ", " << n << " bytes";
    }
  }
}

}  // namespace
}  // namespace bdl::data
