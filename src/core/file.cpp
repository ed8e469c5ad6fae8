#include "bdl/core/file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <utility>

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

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "localhost";
  return name;
}

// "NAME.tmp-PID@HOST": the temporary file a process writes before its rename.
std::string temporary_suffix() {
  std::string suffix = ".tmp-";
  suffix += std::to_string(::getpid());
  suffix += '@';
  suffix += host_name();
  return suffix;
}

// Removes the temporary files in `dir` that a process of this host left when it
// was killed between creating and renaming them (its PID no longer runs).
void remove_stale_temporaries(const std::filesystem::path& dir) {
  std::string host = host_name();
  host.insert(host.begin(), '@');
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    const size_t at = name.rfind(".tmp-");
    if (at == std::string::npos || name.size() <= host.size() ||
        name.compare(name.size() - host.size(), host.size(), host) != 0) {
      continue;
    }
    const std::string pid = name.substr(at + 5, name.size() - host.size() - at - 5);
    if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
    const long value = std::strtol(pid.c_str(), nullptr, 10);
    if (value > 0 && ::kill(static_cast<pid_t>(value), 0) != 0 && errno == ESRCH) {
      std::filesystem::remove(entry.path(), ec);
    }
  }
}

// The file a path names after following symbolic links (the path itself when
// nothing exists there yet).
std::string resolved(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_symlink(path, ec)) return path;
  const auto target = std::filesystem::weakly_canonical(path, ec);
  return ec ? path : target.string();
}

// Opens a device or a pipe for writing through; a FIFO without a reader is
// refused instead of blocking.
int open_through(const std::string& path, OutputKind kind) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0 && errno == ENXIO) fail(path, ": a pipe that nothing reads");
  BDL_CHECK(fd >= 0, path, ": cannot open: ", reason());
  if (kind == OutputKind::pipe) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return fd;
}

}  // namespace

OutputKind check_output_path(const std::string& path, const std::string& what) {
  BDL_CHECK(!path.empty(), what, ": the output path is empty");
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    BDL_CHECK(errno == ENOENT, what, ": ", path, ": ", reason());
    auto dir = std::filesystem::path(path).parent_path();
    if (dir.empty()) dir = ".";
    std::error_code ec;
    BDL_CHECK(std::filesystem::is_directory(dir, ec), what, ": ", path, ": directory ",
              dir.string(), " does not exist");
    BDL_CHECK(::access(dir.c_str(), W_OK) == 0, what, ": ", path, ": directory ", dir.string(),
              " is not writable");
    return OutputKind::file;
  }
  if (S_ISREG(st.st_mode)) {
    BDL_CHECK(::access(path.c_str(), W_OK) == 0, what, ": ", path, " is not writable");
    return OutputKind::file;
  }
  if (S_ISCHR(st.st_mode)) return OutputKind::device;
  // Opening a pipe here to see whether anything reads it would end the
  // reader's input: AtomicFile's own open refuses one nobody reads.
  if (S_ISFIFO(st.st_mode)) return OutputKind::pipe;
  fail(what, ": ", path, " is ",
       S_ISDIR(st.st_mode)   ? "a directory"
       : S_ISBLK(st.st_mode) ? "a block device (bdl writes no raw disks)"
                             : "not a file, device or pipe",
       "; name a file");
}

void check_not_input(const std::string& output, const std::string& output_what,
                     const std::string& input, const std::string& input_what) {
  struct stat out {
  }, in{};
  if (output.empty() || input.empty() || ::stat(output.c_str(), &out) != 0 ||
      ::stat(input.c_str(), &in) != 0 || !S_ISREG(out.st_mode)) {
    return;
  }
  BDL_CHECK(out.st_dev != in.st_dev || out.st_ino != in.st_ino, output_what, ": ", output,
            " is the input file (", input_what, " ", input, "); write the output to another path");
}

AtomicFile::AtomicFile(const std::string& path) : path_(resolved(path)) {
  const OutputKind kind = check_output_path(path_, "output");
  if (kind != OutputKind::file) {
    fd_ = open_through(path_, kind);
    return;
  }
  auto dir = std::filesystem::path(path_).parent_path();
  remove_stale_temporaries(dir.empty() ? "." : dir);
  temporary_ = path_ + temporary_suffix();
  fd_ = ::open(temporary_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  BDL_CHECK(fd_ >= 0, path_, ": cannot create ", temporary_, ": ", reason());
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) {
    ::close(fd_);
    if (!temporary_.empty()) ::unlink(temporary_.c_str());
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
  if (temporary_.empty()) {  // a device or a pipe: nothing to flush or rename
    const int fd = std::exchange(fd_, -1);
    BDL_CHECK(::close(fd) == 0, path_, ": closing failed: ", reason());
    return;
  }
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
  // Non-blocking, so that opening a FIFO returns at once to be refused.
  fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  BDL_CHECK(fd_ >= 0, path_, ": cannot open: ", reason());
  struct stat st {};
  if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd_);
    fail(path_, ": not a regular file",
         S_ISDIR(st.st_mode)    ? " (a directory)"
         : S_ISFIFO(st.st_mode) ? " (a pipe: bdl reads files it can map and seek)"
         : S_ISCHR(st.st_mode)  ? " (a device)"
                                : "");
  }
  ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) & ~O_NONBLOCK);
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
