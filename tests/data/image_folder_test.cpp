// Image folders streamed (data::image_folder): every file once an epoch with
// its class, an order and draws that depend on (seed, epoch) only whatever the
// thread count, resumable mid-epoch, each worker its own files, and bad images
// named or, when asked, skipped and counted.
#include "bdl/data/image_folder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "bdl/data/image.h"
#include "support/errors.h"
#include "support/temp_dir.h"

namespace bdl::data {
namespace {

namespace fs = std::filesystem;
using testing::error_of;

// Flat images whose red names the class and green the file: class c, file i
// is (30 + 90 c, 8 i, 100). Sizes vary, PNG and JPEG alternate.
void make_folder(const fs::path& root, int classes, int per_class) {
  for (int c = 0; c < classes; ++c) {
    const fs::path dir = root / (std::string("class_") + static_cast<char>('a' + c));
    fs::create_directories(dir);
    for (int i = 0; i < per_class; ++i) {
      const int64_t w = 20 + 7 * i, h = 16 + 5 * ((i + c) % 4);
      std::vector<uint8_t> px(static_cast<size_t>(w * h * 3));
      for (size_t k = 0; k < px.size(); k += 3) {
        px[k] = static_cast<uint8_t>(30 + 90 * c);
        px[k + 1] = static_cast<uint8_t>(8 * i);
        px[k + 2] = 100;
      }
      const std::string name = "img" + std::to_string(10 + i);
      if (i % 2 == 0) {
        write_png((dir / (name + ".png")).string(), px.data(), w, h, 3);
      } else {
        write_jpeg((dir / (name + ".JPG")).string(), px.data(), w, h, 3, 98);
      }
    }
  }
}

ImageFolderOptions none(int64_t size = 8) {
  ImageFolderOptions o;
  o.transform = image_transform("none", size, size, 3);
  return o;
}

StreamOptions stream(int64_t batch, int threads = 1, bool shuffle = true) {
  StreamOptions o;
  o.batch_size = batch;
  o.decode_threads = threads;
  o.shuffle = shuffle;
  o.seed = 11;
  o.drop_last = false;
  return o;
}

// The (class, file) a flat sample shows, from its centre pixel.
std::pair<int, int> identity(const float* sample, int64_t size) {
  const int64_t centre = (size / 2) * size + size / 2;
  auto channel = [&](int c, float mean, float std) {
    return static_cast<int>(std::lround((sample[c * size * size + centre] * std + mean) * 255));
  };
  const int red = channel(0, 0.485f, 0.229f), green = channel(1, 0.456f, 0.224f);
  return {(red - 30 + 45) / 90, (green + 4) / 8};
}

// All batches of an epoch: (class, file, label) per sample, and the inputs.
struct Epoch {
  std::vector<std::tuple<int, int, int64_t>> samples;
  std::vector<float> inputs;
};
Epoch read_epoch(BatchStream& s, int64_t epoch, int64_t first = 0, int64_t size = 8) {
  Epoch e;
  s.start_epoch(epoch, first, s.num_batches());
  while (const MiniBatch* b = s.next()) {
    for (int64_t i = 0; i < b->input.size(0); ++i) {
      const float* x = b->input.f32() + i * 3 * size * size;
      const auto [c, f] = identity(x, size);
      e.samples.emplace_back(c, f, b->target.data<int64_t>()[i]);
      e.inputs.insert(e.inputs.end(), x, x + 3 * size * size);
    }
  }
  return e;
}

TEST(ImageFolder, DescribesClassesFilesAndWhatItLeavesOut) {
  testing::TempDir dir;
  make_folder(dir.path(), 3, 5);
  std::ofstream(dir.path() / "class_b" / "notes.txt") << "not an image";
  std::ofstream(dir.path() / "class_b" / ".DS_Store") << "hidden";
  fs::create_directories(dir.path() / "class_c" / "more");
  fs::copy_file(dir.path() / "class_c" / "img10.png", dir.path() / "class_c" / "more" / "x.PNG");
  ASSERT_TRUE(is_image_folder(dir.path().string()));
  const ImageFolderInfo info = describe_image_folder(dir.path().string(), Split::train);
  EXPECT_EQ(info.classes, (std::vector<std::string>{"class_a", "class_b", "class_c"}));
  EXPECT_EQ(info.files.size(), 16u);
  EXPECT_EQ(info.class_counts, (std::vector<int64_t>{5, 5, 6}));
  EXPECT_EQ(info.ignored, 1);
  EXPECT_NE(info.first_ignored.find("notes.txt"), std::string::npos);
  EXPECT_GT(info.bytes, 0);
  EXPECT_FALSE(image_split_directory(dir.path().string(), Split::test).has_value());
}

TEST(ImageFolder, StreamsEveryFileOnceAnEpochWithItsClass) {
  testing::TempDir dir;
  make_folder(dir.path(), 3, 7);
  const Source src = image_folder(dir.path().string(), Split::train, none());
  EXPECT_EQ(src.size(), 21);
  EXPECT_EQ(src.sample_shape(), (Shape{3, 8, 8}));
  EXPECT_EQ(src.num_classes(), 3);
  auto s = src.open(0, 1, stream(4));
  const Epoch e = read_epoch(*s, 0);
  ASSERT_EQ(e.samples.size(), 21u);
  std::set<std::pair<int, int>> seen;
  for (const auto& [c, f, label] : e.samples) {
    EXPECT_EQ(c, label);
    seen.insert({c, f});
  }
  EXPECT_EQ(seen.size(), 21u);
  // Another epoch: the same files in another order.
  const Epoch e1 = read_epoch(*s, 1);
  EXPECT_NE(e.samples, e1.samples);
  EXPECT_EQ(std::set(e.samples.begin(), e.samples.end()),
            std::set(e1.samples.begin(), e1.samples.end()));
}

TEST(ImageFolder, TheSameBatchesWhateverTheThreadsAndAfterAResume) {
  testing::TempDir dir;
  make_folder(dir.path(), 3, 9);
  ImageFolderOptions o;
  o.transform = image_transform("strong", 8, 8, 3);
  const Source src = image_folder(dir.path().string(), Split::train, o);
  auto one = src.open(0, 1, stream(5, 1));
  auto three = src.open(0, 1, stream(5, 3));
  const Epoch a = read_epoch(*one, 2);
  const Epoch b = read_epoch(*three, 2);
  EXPECT_EQ(a.inputs, b.inputs);  // draws and order depend on (seed, epoch, place) only
  EXPECT_EQ(a.samples, b.samples);
  // Resumed at batch 2: the rest of the uninterrupted epoch, bit for bit.
  const Epoch resumed = read_epoch(*three, 2, 2);
  ASSERT_EQ(resumed.inputs.size(), a.inputs.size() - 10 * 3 * 64);
  EXPECT_TRUE(
      std::equal(resumed.inputs.begin(), resumed.inputs.end(), a.inputs.begin() + 10 * 3 * 64));
}

TEST(ImageFolder, EachWorkerReadsItsOwnFiles) {
  testing::TempDir dir;
  make_folder(dir.path(), 2, 7);
  const Source src = image_folder(dir.path().string(), Split::train, none());
  std::set<std::pair<int, int>> all;
  size_t total = 0;
  for (int r = 0; r < 3; ++r) {
    auto s = src.open(r, 3, stream(2));
    EXPECT_EQ(s->samples(), r < 2 ? 5 : 4);
    const Epoch e = read_epoch(*s, 0);
    for (const auto& [c, f, label] : e.samples) all.insert({c, f});
    total += e.samples.size();
  }
  EXPECT_EQ(total, 14u);
  EXPECT_EQ(all.size(), 14u);
}

TEST(ImageFolder, TrainAndTestSplitsShareTheClasses) {
  testing::TempDir dir;
  make_folder(dir.path() / "train", 3, 3);
  make_folder(dir.path() / "val", 2, 2);
  ASSERT_TRUE(is_image_folder(dir.path().string()));
  const ImageFolderInfo train = describe_image_folder(dir.path().string(), Split::train);
  const ImageFolderInfo val =
      describe_image_folder(dir.path().string(), Split::test, &train.classes);
  EXPECT_EQ(val.classes.size(), 3u);
  EXPECT_EQ(val.files.size(), 4u);
  fs::create_directories(dir.path() / "val" / "zebra");
  fs::copy_file(dir.path() / "val" / "class_a" / "img10.png",
                dir.path() / "val" / "zebra" / "z.png");
  EXPECT_NE(error_of([&] {
              describe_image_folder(dir.path().string(), Split::test, &train.classes);
            }).find("zebra: a class the training folder does not have"),
            std::string::npos);
}

TEST(ImageFolder, TakeSpreadsOverTheClassesAndOneHotRows) {
  testing::TempDir dir;
  make_folder(dir.path(), 3, 6);
  const Source src = image_folder(dir.path().string(), Split::train, none()).take(6);
  EXPECT_EQ(src.size(), 6);
  auto s = src.open(0, 1, stream(6, 1, false));
  const Epoch e = read_epoch(*s, 0);
  std::map<int, int> per_class;
  for (const auto& [c, f, label] : e.samples) ++per_class[c];
  EXPECT_EQ(per_class, (std::map<int, int>{{0, 2}, {1, 2}, {2, 2}}));
  const Source hot = image_folder(dir.path().string(), Split::train, none()).one_hot(5);
  EXPECT_EQ(hot.target_shape(), (Shape{5}));
  auto h = hot.open(0, 1, stream(4));
  h->start_epoch(0, 0, 1);
  const MiniBatch* b = h->next();
  for (int64_t i = 0; i < 4; ++i) {
    const auto [c, f] = identity(b->input.f32() + i * 3 * 64, 8);
    for (int64_t k = 0; k < 5; ++k) EXPECT_EQ(b->target.f32()[i * 5 + k], k == c ? 1.f : 0.f);
  }
  EXPECT_NE(error_of([&] {
              (void)image_folder(dir.path().string(), Split::train, none()).with_classes(2);
            }).find("3 class folders, the model has 2 outputs"),
            std::string::npos);
}

TEST(ImageFolder, ABadImageIsNamedOrSkippedAndCounted) {
  testing::TempDir dir;
  make_folder(dir.path(), 2, 6);
  const fs::path bad = dir.path() / "class_b" / "img11.JPG";
  std::vector<uint8_t> bytes;
  read_file_bytes(bad.string(), bytes);
  std::ofstream(bad, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size() / 2));
  std::ofstream(dir.path() / "class_a" / "empty.png");  // zero bytes
  {
    const Source src = image_folder(dir.path().string(), Split::train, none());
    auto s = src.open(0, 1, stream(4, 2));
    const std::string e = error_of([&] { read_epoch(*s, 0); });
    EXPECT_TRUE(e.find("img11.JPG: a JPEG cut short") != std::string::npos ||
                e.find("empty.png: neither a JPEG nor a PNG") != std::string::npos)
        << e;
  }
  ImageFolderOptions skip = none();
  skip.skip_bad_records = true;
  const Source src = image_folder(dir.path().string(), Split::train, skip);
  StreamOptions training = stream(4, 2);
  training.drop_last = true;
  auto t = src.open(0, 1, training);
  const Epoch e = read_epoch(*t, 0);
  EXPECT_EQ(e.samples.size(), 12u);  // 13 files, 3 whole batches; the bad ones replaced
  for (const auto& [c, f, label] : e.samples) {
    EXPECT_EQ(c, label);
    EXPECT_FALSE(c == 1 && f == 1);  // never the cut image
  }
  const StreamReport report = t->report();
  EXPECT_GE(report.skipped, 1);
  EXPECT_LE(report.skipped, 2);
  EXPECT_TRUE(report.first_skipped.find("img11.JPG") != std::string::npos ||
              report.first_skipped.find("empty.png") != std::string::npos);
}

TEST(ImageFolder, FoldersWithoutImagesAreNamed) {
  testing::TempDir dir;
  EXPECT_NE(error_of([&] {
              describe_image_folder(dir.path().string(), Split::train);
            }).find("no class folders"),
            std::string::npos);
  fs::create_directories(dir.path() / "cats");
  std::ofstream(dir.path() / "cats" / "a.txt") << "x";
  EXPECT_FALSE(is_image_folder(dir.path().string()));
  EXPECT_NE(error_of([&] {
              describe_image_folder(dir.path().string(), Split::train);
            }).find("hold no .jpg, .jpeg or .png files"),
            std::string::npos);
}

}  // namespace
}  // namespace bdl::data
