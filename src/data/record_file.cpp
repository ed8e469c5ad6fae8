#include "bdl/data/record_file.h"

#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "bdl/core/error.h"

namespace bdl::data {
namespace {

constexpr std::array<uint32_t, 256> make_crc32c_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    table[i] = c;
  }
  return table;
}
constexpr std::array<uint32_t, 256> kCrc32cTable = make_crc32c_table();

constexpr int64_t kHeaderBytes = 12;  // length, its checksum
constexpr int64_t kFooterBytes = 4;   // the data's checksum

uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);  // little-endian on the machines bdl builds for
  return v;
}

}  // namespace

namespace {

uint32_t crc32c_table(uint32_t c, const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; ++i) c = kCrc32cTable[(c ^ p[i]) & 0xFF] ^ (c >> 8);
  return c;
}

#if defined(__x86_64__)
// SSE4.2's crc32 instruction computes CRC-32C: 8 bytes a step instead of one.
__attribute__((target("sse4.2"))) uint32_t crc32c_sse42(uint32_t c, const uint8_t* p, size_t n) {
  uint64_t c64 = c;
  for (; n >= 8; n -= 8, p += 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    c64 = __builtin_ia32_crc32di(c64, v);
  }
  c = static_cast<uint32_t>(c64);
  for (; n > 0; --n, ++p) c = __builtin_ia32_crc32qi(c, *p);
  return c;
}
const bool kHaveSse42 = __builtin_cpu_supports("sse4.2");
#endif

}  // namespace

uint32_t crc32c(std::span<const uint8_t> bytes) {
  const uint32_t c = 0xFFFFFFFFu;
#if defined(__x86_64__)
  if (kHaveSse42) return crc32c_sse42(c, bytes.data(), bytes.size()) ^ 0xFFFFFFFFu;
#endif
  return crc32c_table(c, bytes.data(), bytes.size()) ^ 0xFFFFFFFFu;
}

uint32_t masked_crc32c(std::span<const uint8_t> bytes) {
  const uint32_t c = crc32c(bytes);
  return ((c >> 15) | (c << 17)) + 0xA282EAD8u;
}

RecordWriter::RecordWriter(std::string path, Mode mode) : path_(std::move(path)) {
  file_ = std::fopen(path_.c_str(), mode == Mode::append ? "ab" : "wb");
  BDL_CHECK(file_ != nullptr, path_, ": cannot open for writing: ", std::strerror(errno));
}

RecordWriter::~RecordWriter() {
  if (file_ != nullptr) std::fclose(file_);
}

void RecordWriter::write(std::span<const uint8_t> data) {
  BDL_CHECK(file_ != nullptr, path_, ": written after close()");
  uint8_t header[kHeaderBytes];
  const uint64_t length = data.size();
  std::memcpy(header, &length, 8);
  const uint32_t length_crc = masked_crc32c({header, 8});
  std::memcpy(header + 8, &length_crc, 4);
  const uint32_t data_crc = masked_crc32c(data);
  const bool ok = std::fwrite(header, 1, sizeof header, file_) == sizeof header &&
                  std::fwrite(data.data(), 1, data.size(), file_) == data.size() &&
                  std::fwrite(&data_crc, 1, 4, file_) == 4;
  BDL_CHECK(ok, path_, ": cannot write: ", std::strerror(errno));
  ++records_;
  bytes_ += kHeaderBytes + static_cast<int64_t>(data.size()) + kFooterBytes;
}

void RecordWriter::write(const std::string& data) {
  write({reinterpret_cast<const uint8_t*>(data.data()), data.size()});
}

void RecordWriter::flush() {
  BDL_CHECK(file_ != nullptr && std::fflush(file_) == 0, path_,
            ": cannot write: ", std::strerror(errno));
}

void RecordWriter::close() {
  if (file_ == nullptr) return;
  const bool ok = std::fflush(file_) == 0 && fsync(fileno(file_)) == 0;
  const int error = errno;
  const bool closed = std::fclose(file_) == 0;
  file_ = nullptr;
  BDL_CHECK(ok && closed, path_, ": cannot write: ", std::strerror(ok ? errno : error));
}

RecordReader::RecordReader(std::string path) : path_(std::move(path)) {
  file_ = std::fopen(path_.c_str(), "rb");
  BDL_CHECK(file_ != nullptr, path_, ": cannot open: ", std::strerror(errno));
  BDL_CHECK(std::fseek(file_, 0, SEEK_END) == 0, path_, ": cannot seek: ", std::strerror(errno));
  size_ = std::ftell(file_);
  std::rewind(file_);
}

RecordReader::~RecordReader() {
  if (file_ != nullptr) std::fclose(file_);
}

bool RecordReader::next(std::string& data) {
  resume_ = -1;
  if (offset_ == size_) return false;
  const int64_t at = offset_;
  BDL_CHECK(size_ - at >= kHeaderBytes, path_, ": record at byte ", at,
            " is cut short: ", size_ - at, " bytes left where a record header takes ", kHeaderBytes,
            " (a truncated file?)");
  uint8_t header[kHeaderBytes];
  BDL_CHECK(std::fread(header, 1, sizeof header, file_) == sizeof header, path_,
            ": cannot read at byte ", at, ": ", std::strerror(errno));
  BDL_CHECK(load_u32(header + 8) == masked_crc32c({header, 8}), path_, ": record at byte ", at,
            ": its length field fails its checksum (damaged, or not a TFRecord file)");
  uint64_t length;
  std::memcpy(&length, header, 8);
  const int64_t room = size_ - at - kHeaderBytes - kFooterBytes;
  BDL_CHECK(room >= 0 && length <= static_cast<uint64_t>(room), path_, ": record at byte ", at,
            " says it holds ", length, " bytes but the file ends ", size_ - at - kHeaderBytes,
            " bytes after its header (a truncated file?)");
  const int64_t end = at + kHeaderBytes + static_cast<int64_t>(length) + kFooterBytes;
  data.resize(length);
  uint8_t footer[kFooterBytes];
  BDL_CHECK(std::fread(data.data(), 1, length, file_) == length &&
                std::fread(footer, 1, sizeof footer, file_) == sizeof footer,
            path_, ": cannot read at byte ", at, ": ", std::strerror(errno));
  offset_ = end;
  const auto* bytes = reinterpret_cast<const uint8_t*>(data.data());
  if (load_u32(footer) != masked_crc32c({bytes, length})) {
    resume_ = end;
    throw Error(bdl::detail::concat(path_, ": record at byte ", at, " (", length,
                                    " bytes): its data fails its checksum (damaged)"));
  }
  return true;
}

void RecordReader::seek(int64_t offset) {
  BDL_CHECK(offset >= 0 && offset <= size_, path_, ": cannot seek to byte ", offset, " of ", size_);
  BDL_CHECK(std::fseek(file_, offset, SEEK_SET) == 0, path_,
            ": cannot seek: ", std::strerror(errno));
  offset_ = offset;
  resume_ = -1;
}

bool RecordReader::skip_damaged() {
  if (resume_ < 0) return false;
  seek(resume_);
  return true;
}

}  // namespace bdl::data
