// TensorBoard event files: the record framing (lengths and masked CRC-32C),
// the Event messages, and histograms, read back here byte by byte; the Python
// suite reads them with TensorBoard's own reader.
#include "bdl/io/event_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "bdl/core/error.h"
#include "src/io/tensorboard_event.pb.h"

namespace bdl::io {
namespace {

namespace fs = std::filesystem;
using data::crc32c;
using data::masked_crc32c;

std::vector<tensorboard::Event> read_events(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<tensorboard::Event> events;
  uint8_t header[12];
  while (in.read(reinterpret_cast<char*>(header), 12)) {
    uint64_t length = 0;
    std::memcpy(&length, header, 8);
    uint32_t length_crc = 0;
    std::memcpy(&length_crc, header + 8, 4);
    EXPECT_EQ(length_crc, masked_crc32c({header, 8}));
    std::string data(length, '\0');
    in.read(data.data(), static_cast<std::streamsize>(length));
    uint32_t data_crc = 0;
    in.read(reinterpret_cast<char*>(&data_crc), 4);
    EXPECT_EQ(data_crc, masked_crc32c({reinterpret_cast<const uint8_t*>(data.data()), length}));
    tensorboard::Event e;
    EXPECT_TRUE(e.ParseFromString(data));
    events.push_back(e);
  }
  return events;
}

TEST(EventFile, Crc32cMatchesTheStandardCheckValue) {
  const std::string digits = "123456789";
  EXPECT_EQ(crc32c({reinterpret_cast<const uint8_t*>(digits.data()), digits.size()}), 0xE3069283u);
  EXPECT_EQ(crc32c({}), 0u);
}

TEST(EventFile, WritesScalarsAndHistogramsTensorBoardReads) {
  const fs::path dir = fs::temp_directory_path() / ("bdl_events_" + std::to_string(getpid()));
  fs::remove_all(dir);
  std::string path;
  {
    EventFile f((dir / "train").string());  // made with its parents
    path = f.path();
    f.scalar("loss", 1, 2.5);
    f.scalar("loss", 2, 1.25);
    const std::vector<float> values = {-2.f, 0.f, 0.5f, 0.5f, 3.f, NAN};
    f.histogram("weights/w", 7, values);
  }
  EXPECT_EQ(fs::path(path).parent_path(), dir / "train");
  EXPECT_EQ(fs::path(path).filename().string().rfind("events.out.tfevents.", 0), 0u);
  const auto events = read_events(path);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].file_version(), "brain.Event:2");
  EXPECT_EQ(events[1].step(), 1);
  EXPECT_EQ(events[1].summary().value(0).tag(), "loss");
  EXPECT_FLOAT_EQ(events[2].summary().value(0).simple_value(), 1.25f);
  const auto& h = events[3].summary().value(0).histo();
  EXPECT_EQ(events[3].step(), 7);
  EXPECT_EQ(h.num(), 5);  // the NaN is left out
  EXPECT_EQ(h.min(), -2);
  EXPECT_EQ(h.max(), 3);
  EXPECT_DOUBLE_EQ(h.sum(), 2);
  EXPECT_DOUBLE_EQ(h.sum_squares(), 4 + 0.25 + 0.25 + 9);
  double counted = 0;
  for (int i = 0; i < h.bucket_size(); ++i) counted += h.bucket(i);
  EXPECT_EQ(counted, 5);
  ASSERT_EQ(h.bucket_size(), h.bucket_limit_size());
  for (int i = 1; i < h.bucket_limit_size(); ++i)
    EXPECT_LT(h.bucket_limit(i - 1), h.bucket_limit(i));
  fs::remove_all(dir);
}

TEST(EventFile, NamesTheDirectoryItCannotCreate) {
  const fs::path file = fs::temp_directory_path() / ("bdl_events_file_" + std::to_string(getpid()));
  std::ofstream(file) << "x";
  try {
    EventFile f((file / "train").string());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(file.string()), std::string::npos) << e.what();
  }
  fs::remove(file);
}

}  // namespace
}  // namespace bdl::io
