#pragma once

// Record files in TensorFlow's TFRecord framing: what Spark's TFRecord
// connector, TensorFlow and many data pipelines write, and what TensorBoard's
// event files are. Each record is its length (uint64, little-endian), the
// masked CRC-32C of those 8 bytes, the data, and the masked CRC-32C of the
// data. Readers stream: memory does not grow with the file.
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>

namespace bdl::data {

class RecordWriter {
 public:
  enum class Mode { truncate, append };
  // Opens (creating) `path`; errors name it.
  explicit RecordWriter(std::string path, Mode mode = Mode::truncate);
  ~RecordWriter();
  RecordWriter(const RecordWriter&) = delete;
  RecordWriter& operator=(const RecordWriter&) = delete;

  void write(std::span<const uint8_t> data);
  void write(const std::string& data);
  // Makes what was written visible to readers.
  void flush();
  // Flushes to disk and closes; errors (a full disk) name the file. The
  // destructor closes too, but cannot report.
  void close();

  const std::string& path() const { return path_; }
  int64_t records() const { return records_; }
  int64_t bytes() const { return bytes_; }

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
  int64_t records_ = 0, bytes_ = 0;
};

class RecordReader {
 public:
  // Opens `path`; errors name it.
  explicit RecordReader(std::string path);
  ~RecordReader();
  RecordReader(const RecordReader&) = delete;
  RecordReader& operator=(const RecordReader&) = delete;

  // The next record into `data` (its buffer reused); false at the end of the
  // file. A damaged record (a bad checksum, a length past the end of the file,
  // a file cut inside a record) throws bdl::Error naming the file and the
  // record's byte offset.
  bool next(std::string& data);
  // The byte offset of the next record: where a resumed reader seeks to.
  int64_t offset() const { return offset_; }
  // Continues from a record boundary offset() returned.
  void seek(int64_t offset);
  // Skips the rest of a damaged record that next() reported, when its length
  // field was intact (false when it was not: the rest of the file cannot be
  // framed).
  bool skip_damaged();
  const std::string& path() const { return path_; }
  int64_t file_size() const { return size_; }

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
  int64_t size_ = 0;
  int64_t offset_ = 0;
  int64_t resume_ = -1;  // after a damaged record with a good length: its end
};

// CRC-32C (Castagnoli) of `bytes`, and the masked form the framing stores.
uint32_t crc32c(std::span<const uint8_t> bytes);
uint32_t masked_crc32c(std::span<const uint8_t> bytes);

}  // namespace bdl::data
