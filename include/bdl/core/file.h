#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace bdl {

// What an output path names, and so how it is written.
enum class OutputKind {
  file,    // a regular file, or none yet: written atomically beside it, then renamed
  device,  // a character device (/dev/null, /dev/stdout's terminal): written through
  pipe,    // a FIFO or pipe with a reader (/dev/fd/N of a shell's >(...)): written through
};

// Decides, before any work, how `path` can take an output, or fails naming it
// and `what` (the flag or field that gave it): a directory, a block device, a
// socket and a path whose directory does not exist or cannot be written are
// refused. A FIFO is accepted here; writing to one that nothing reads fails
// then instead of blocking. A symbolic link is followed: its target is written,
// the link stays.
OutputKind check_output_path(const std::string& path, const std::string& what);

// Fails when `output` is the same file as `input` (the same inode, whatever
// the path's spelling, links included): an output never overwrites what the
// command reads.
void check_not_input(const std::string& output, const std::string& output_what,
                     const std::string& input, const std::string& input_what);

// Writes a file so that a crash at any point leaves either the previous file or
// the complete new one: the bytes go to a temporary file beside it
// (NAME.tmp-PID@HOST), which is flushed to disk (fsync), renamed over the
// target, and the directory flushed. Destroyed without commit(), it removes the
// temporary file; temporary files that killed processes of this host left in
// the directory are removed when the next one is made. A device or a pipe is
// written through instead (check_output_path): it is never replaced.
class AtomicFile {
 public:
  explicit AtomicFile(const std::string& path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t bytes);
  void pad_to(uint64_t alignment);
  uint64_t written() const { return written_; }
  void commit();

 private:
  std::string path_, temporary_;  // temporary_ is empty when writing through
  int fd_ = -1;
  uint64_t written_ = 0;
};

// The project's one way to read a file: a regular file (a directory, device or
// pipe is refused by name, without blocking on a FIFO), read at checked offsets
// or through a read-only mapping of the whole of it. Every error names the file.
class InputFile {
 public:
  explicit InputFile(std::string path);
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }
  // Reads exactly `bytes` at `offset` into `data` (one copy, straight from the
  // page cache); `what` names the part for the error when the file ends first.
  void read(void* data, size_t bytes, uint64_t offset, const char* what) const;
  // The whole file, mapped read-only on first use: parsing from the mapping
  // touches no fresh memory. Valid while this object lives.
  std::span<const std::byte> bytes();
  // The whole file as a string (small files: headers, tensors, manifests).
  std::string read_all();

 private:
  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
  void* map_ = nullptr;
};

// A 64-bit checksum of a byte range, fast enough to check weights at memory speed.
uint64_t checksum(const void* data, size_t bytes);

}  // namespace bdl
