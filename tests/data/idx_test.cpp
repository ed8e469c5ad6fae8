#include "bdl/data/idx.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "bdl/data/dataset.h"

namespace bdl::data {
namespace {

namespace fs = std::filesystem;

class IdxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("bdl_idx_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::vector<unsigned char> header(uint32_t magic, std::vector<uint32_t> dims) {
    std::vector<unsigned char> b;
    auto put = [&](uint32_t v) {
      for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<unsigned char>(v >> s));
    };
    put(magic);
    for (uint32_t d : dims) put(d);
    return b;
  }
  std::string write(const std::string& name, const std::vector<unsigned char>& bytes) {
    const std::string path = (dir_ / name).string();
    if (name.ends_with(".gz")) {
      gzFile f = gzopen(path.c_str(), "wb");
      gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
      gzclose(f);
    } else {
      std::ofstream(path, std::ios::binary)
          .write(reinterpret_cast<const char*>(bytes.data()),
                 static_cast<std::streamsize>(bytes.size()));
    }
    return path;
  }
  std::string images(const std::string& name, uint32_t n, size_t drop = 0) {
    auto b = header(0x803, {n, 2, 3});
    for (uint32_t i = 0; i < n * 6; ++i) b.push_back(static_cast<unsigned char>(i));
    b.resize(b.size() - drop);
    return write(name, b);
  }
  std::string labels(const std::string& name, uint32_t n) {
    auto b = header(0x801, {n});
    for (uint32_t i = 0; i < n; ++i) b.push_back(static_cast<unsigned char>(i % 10));
    return write(name, b);
  }
  static std::string error_of(const std::function<void()>& f) {
    try {
      f();
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  }

  fs::path dir_;
};

TEST_F(IdxTest, ReadsGzippedAndPlainFiles) {
  for (const std::string name : {"a-images.gz", "a-images"}) {
    const Tensor t = read_idx(images(name, 4));
    EXPECT_EQ(t.shape(), (Shape{4, 2, 3}));
    EXPECT_EQ(t.dtype(), DType::u8);
    EXPECT_EQ(t.at({3, 1, 2}), 23.f);
  }
}

TEST_F(IdxTest, MissingFileNamesTheFile) {
  const std::string path = (dir_ / "nope.gz").string();
  EXPECT_EQ(error_of([&] { read_idx(path); }), path + ": no such file");
}

TEST_F(IdxTest, TruncatedFileNamesTheFile) {
  for (const std::string name : {"t.gz", "t"}) {
    const std::string path = images(name, 4, 5);
    EXPECT_EQ(error_of([&] { read_idx(path); }),
              path + ": truncated, shape [4, 2, 3] needs 24 data bytes but the file has 19");
  }
}

TEST_F(IdxTest, TruncatedHeaderIsReported) {
  const std::string path = write("h", {0, 0, 8, 3, 0, 0});
  EXPECT_EQ(error_of([&] { read_idx(path); }),
            path + ": header is truncated (3 dimensions declared)");
  const std::string empty = write("e", {});
  EXPECT_EQ(error_of([&] { read_idx(empty); }),
            empty + ": file has 0 bytes, too short for an IDX header");
}

TEST_F(IdxTest, WrongMagicNumberIsReported) {
  auto b = header(0x12345678, {1});
  const std::string path = write("m", b);
  EXPECT_EQ(
      error_of([&] { read_idx(path); }),
      path + ": bad magic number 0x12345678, expected an IDX file (0x00000801 to 0x000008ff)");
  const std::string floats = write("f", header(0x0D01, {1}));
  EXPECT_EQ(error_of([&] { read_idx(floats); }),
            floats + ": IDX element type 0xd is not supported, expected 0x08 (unsigned byte)");
}

TEST_F(IdxTest, CorruptGzipIsReported) {
  std::vector<unsigned char> b{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
  for (int i = 0; i < 64; ++i) b.push_back(static_cast<unsigned char>(i * 37));
  const std::string path = write("c", b);
  const std::string message = error_of([&] { read_idx(path); });
  EXPECT_EQ(message.rfind(path + ": corrupt or unreadable data", 0), 0u) << message;
}

TEST_F(IdxTest, HugeDeclaredShapesAreRefusedWithoutOverflow) {
  // Four sizes of 2^32 - 1: their product overflows 64 bits (found by idx_fuzz).
  auto b = header(0x804, {0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu});
  const std::string path = write("huge", b);
  EXPECT_EQ(error_of([&] { read_idx(path); }), path + ": declared shape is implausibly large");
}

TEST_F(IdxTest, TrailingBytesAreReported) {
  auto b = header(0x801, {2});
  b.insert(b.end(), {1, 2, 3});
  const std::string path = write("x", b);
  EXPECT_EQ(error_of([&] { read_idx(path); }),
            path + ": has trailing bytes after the 2 data bytes of shape [2]");
}

TEST_F(IdxTest, ImageAndLabelCountMismatchNamesBothFiles) {
  const std::string im = images("im.gz", 5);
  const std::string lb = labels("lb.gz", 4);
  EXPECT_EQ(error_of([&] { idx(im, lb); }), im + " has 5 images but " + lb + " has 4 labels");
}

TEST_F(IdxTest, DirectoryWithMissingFileNamesIt) {
  images("train-images-idx3-ubyte.gz", 3);
  EXPECT_EQ(error_of([&] { mnist_like(dir_.string(), Split::train); }),
            dir_.string() + ": missing train-labels-idx1-ubyte[.gz]");
  EXPECT_EQ(error_of([&] { mnist_like((dir_ / "none").string(), Split::train); }),
            (dir_ / "none").string() + ": not a directory");
}

TEST_F(IdxTest, DirectoryOfIdxFilesLoads) {
  images("train-images-idx3-ubyte", 6);
  labels("train-labels-idx1-ubyte.gz", 6);
  const Dataset d = mnist_like(dir_.string(), Split::train);
  EXPECT_EQ(d.size(), 6);
  EXPECT_EQ(d.sample_shape(), (Shape{1, 2, 3}));
  EXPECT_EQ(d.targets().at_i64({5}), 5);
}

TEST(FashionMnist, DebianPackageLoadsWithExpectedShapes) {
  if (!fs::exists("/usr/share/datasets/fashion-mnist")) {
    GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  }
  const Dataset train = mnist_like("fashion-mnist", Split::train);
  const Dataset test = mnist_like("fashion-mnist", Split::test);
  EXPECT_EQ(train.size(), 60000);
  EXPECT_EQ(test.size(), 10000);
  EXPECT_EQ(train.sample_shape(), (Shape{1, 28, 28}));
  EXPECT_EQ(train.num_classes(), 10);
}

}  // namespace
}  // namespace bdl::data
