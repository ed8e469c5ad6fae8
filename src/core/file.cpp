#include "bdl/core/file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "bdl/core/error.h"

namespace bdl {
namespace {

std::string reason() { return std::strerror(errno); }

void sync_directory_of(const std::string& path) {
  auto dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = ".";
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;  // the rename is done; flushing the directory is best effort
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

AtomicFile::AtomicFile(std::string path)
    : path_(std::move(path)), temporary_(path_ + ".tmp-" + std::to_string(::getpid())) {
  fd_ = ::open(temporary_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  BDL_CHECK(fd_ >= 0, path_, ": cannot create ", temporary_, ": ", reason());
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(temporary_.c_str());
  }
}

void AtomicFile::write(const void* data, size_t bytes) {
  const char* p = static_cast<const char*>(data);
  while (bytes > 0) {
    const ssize_t n = ::write(fd_, p, std::min<size_t>(bytes, size_t{1} << 30));
    if (n < 0 && errno == EINTR) continue;
    BDL_CHECK(n > 0, path_, ": writing failed after ", written_, " bytes: ", reason());
    p += n;
    bytes -= static_cast<size_t>(n);
    written_ += static_cast<uint64_t>(n);
  }
}

void AtomicFile::pad_to(uint64_t alignment) {
  static const char zeros[64] = {};
  while (written_ % alignment != 0) {
    write(zeros, std::min<uint64_t>(sizeof zeros, alignment - written_ % alignment));
  }
}

void AtomicFile::commit() {
  BDL_CHECK(::fsync(fd_) == 0, path_, ": flushing to disk failed: ", reason());
  BDL_CHECK(::close(fd_) == 0, path_, ": closing failed: ", reason());
  fd_ = -1;
  if (::rename(temporary_.c_str(), path_.c_str()) != 0) {
    const std::string why = reason();
    ::unlink(temporary_.c_str());
    fail(path_, ": cannot rename ", temporary_, " to it: ", why);
  }
  sync_directory_of(path_);
}

InputFile::InputFile(std::string path) : path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  BDL_CHECK(fd_ >= 0, path_, ": cannot open: ", reason());
  struct stat st {};
  if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd_);
    fail(path_, ": not a regular file");
  }
  size_ = static_cast<uint64_t>(st.st_size);
}

InputFile::~InputFile() {
  if (map_ != nullptr) ::munmap(map_, size_);
  ::close(fd_);
}

std::span<const std::byte> InputFile::bytes() {
  if (size_ == 0) return {};
  if (map_ == nullptr) {
    void* m = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd_, 0);
    BDL_CHECK(m != MAP_FAILED, path_, ": cannot map: ", reason());
    map_ = m;
  }
  return {static_cast<const std::byte*>(map_), size_};
}

std::string InputFile::read_all() {
  std::string out(size_, '\0');
  read(out.data(), out.size(), 0, "the file");
  return out;
}

void InputFile::read(void* data, size_t bytes, uint64_t offset, const char* what) const {
  BDL_CHECK(offset <= size_ && bytes <= size_ - offset, path_, ": truncated: ", what, " needs ",
            bytes, " bytes at offset ", offset, ", the file has ", size_);
  char* p = static_cast<char*>(data);
  while (bytes > 0) {
    const ssize_t n =
        ::pread(fd_, p, std::min<size_t>(bytes, size_t{1} << 30), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    BDL_CHECK(n > 0, path_, ": reading ", what, " failed: ", n < 0 ? reason() : "file ended");
    p += n;
    bytes -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
}

// Eight independent multiply-xor lanes over 64-bit words (so the multiplies
// overlap), folded together with the tail bytes and the length.
uint64_t checksum(const void* data, size_t bytes) {
  constexpr uint64_t kPrime = 0x9E3779B97F4A7C15ull;
  uint64_t lane[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  const auto* p = static_cast<const unsigned char*>(data);
  size_t i = 0;
  for (; i + 64 <= bytes; i += 64) {
    for (int k = 0; k < 8; ++k) {
      uint64_t w;
      std::memcpy(&w, p + i + static_cast<size_t>(8 * k), 8);
      lane[k] = (lane[k] ^ w) * kPrime;
      lane[k] ^= lane[k] >> 29;
    }
  }
  uint64_t h = bytes * kPrime;
  for (int k = 0; k < 8; ++k) h = (h ^ lane[k]) * kPrime + static_cast<uint64_t>(k);
  for (; i < bytes; ++i) h = (h ^ p[i]) * kPrime;
  return h ^ (h >> 32);
}

}  // namespace bdl
