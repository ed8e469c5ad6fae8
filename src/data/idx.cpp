#include "bdl/data/idx.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <span>
#include <vector>

#include "bdl/core/file.h"

namespace bdl::data {
namespace {

constexpr int64_t kMaxIdxElements = int64_t{1} << 34;

// The bytes of an IDX file, read from its mapping: inflated on the way when it
// is gzip-compressed (it starts with gzip's magic bytes), copied otherwise.
class IdxBytes {
 public:
  IdxBytes(std::span<const std::byte> bytes, std::string path)
      : path_(std::move(path)), all_(bytes) {
    gzip_ = all_.size() >= 2 && all_[0] == std::byte{0x1f} && all_[1] == std::byte{0x8b};
    if (!gzip_) return;
    BDL_CHECK(inflateInit2(&stream_, 15 + 32) == Z_OK, path_, ": cannot start zlib");
    // zlib's interface takes a non-const pointer but does not write through it.
    stream_.next_in = const_cast<Bytef*>(reinterpret_cast<const Bytef*>(all_.data()));
    stream_.avail_in = 0;
  }
  ~IdxBytes() {
    if (gzip_) inflateEnd(&stream_);
  }
  IdxBytes(const IdxBytes&) = delete;
  IdxBytes& operator=(const IdxBytes&) = delete;

  // Reads up to n bytes; returns how many there were.
  int64_t read(void* out, int64_t n) {
    if (!gzip_) {
      const int64_t got = std::min<int64_t>(n, static_cast<int64_t>(all_.size()) - at_);
      if (got > 0) std::memcpy(out, all_.data() + at_, static_cast<size_t>(got));
      at_ += got;
      return got;
    }
    auto* p = static_cast<Bytef*>(out);
    int64_t done = 0;
    while (done < n && !ended_) {
      refill();
      const auto chunk = static_cast<uInt>(std::min<int64_t>(n - done, int64_t{1} << 30));
      stream_.next_out = p + done;
      stream_.avail_out = chunk;
      const int rc = inflate(&stream_, Z_NO_FLUSH);
      done += chunk - stream_.avail_out;
      if (rc == Z_STREAM_END) {
        ended_ = true;
      } else if (rc != Z_OK) {
        BDL_CHECK(rc == Z_BUF_ERROR && stream_.avail_in == 0 && at_ < size(), path_,
                  ": corrupt or unreadable data (",
                  rc == Z_BUF_ERROR ? "the compressed stream ends early"
                  : stream_.msg     ? stream_.msg
                                    : "zlib error",
                  ")");
      }
    }
    return done;
  }

 private:
  int64_t size() const { return static_cast<int64_t>(all_.size()); }
  // Hands zlib the next part of the mapping (zlib counts in 32 bits).
  void refill() {
    if (stream_.avail_in > 0 || at_ >= size()) return;
    const auto chunk = std::min<int64_t>(size() - at_, int64_t{1} << 30);
    stream_.next_in = const_cast<Bytef*>(reinterpret_cast<const Bytef*>(all_.data() + at_));
    stream_.avail_in = static_cast<uInt>(chunk);
    at_ += chunk;
  }

  std::string path_;
  std::span<const std::byte> all_;
  bool gzip_ = false, ended_ = false;
  int64_t at_ = 0;  // the next byte of the file to hand on
  z_stream stream_{};
};

// `bytes` as a gzip member (level 6), fed to zlib in pieces it can count.
std::string gzip(const std::string& bytes, const std::string& path) {
  z_stream z{};
  BDL_CHECK(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK, path,
            ": cannot start zlib");
  std::string out(deflateBound(&z, static_cast<uLong>(bytes.size())), '\0');
  constexpr size_t kPiece = size_t{1} << 30;
  size_t in = 0;
  int rc = Z_OK;
  while (rc == Z_OK) {
    const size_t piece = std::min(bytes.size() - in, kPiece);
    z.next_in = const_cast<Bytef*>(reinterpret_cast<const Bytef*>(bytes.data() + in));
    z.avail_in = static_cast<uInt>(piece);
    z.next_out = reinterpret_cast<Bytef*>(out.data() + z.total_out);
    z.avail_out = static_cast<uInt>(std::min(out.size() - z.total_out, kPiece));
    const bool last = in + piece == bytes.size();
    rc = deflate(&z, last ? Z_FINISH : Z_NO_FLUSH);
    in += piece - z.avail_in;
  }
  out.resize(z.total_out);
  deflateEnd(&z);
  BDL_CHECK(rc == Z_STREAM_END, path, ": compressing failed");
  return out;
}

uint32_t big_endian(const unsigned char* b) {
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
}

}  // namespace

Tensor read_idx(const std::string& path) {
  BDL_CHECK(std::filesystem::exists(path), path, ": no such file");
  InputFile file(path);
  return parse_idx(file.bytes(), path);
}

Tensor parse_idx(std::span<const std::byte> bytes, const std::string& path) {
  IdxBytes in(bytes, path);
  unsigned char magic[4];
  const int64_t got = in.read(magic, 4);
  BDL_CHECK(got == 4, path, ": file has ", got, " bytes, too short for an IDX header");
  BDL_CHECK(magic[0] == 0 && magic[1] == 0, path, ": bad magic number 0x", std::hex,
            big_endian(magic), ", expected an IDX file (0x00000801 to 0x000008ff)");
  BDL_CHECK(magic[2] == 0x08, path, ": IDX element type 0x", std::hex, int{magic[2]},
            " is not supported, expected 0x08 (unsigned byte)");
  const int rank = magic[3];
  BDL_CHECK(rank >= 1 && rank <= 4, path, ": IDX rank ", rank, ", expected 1 to 4");
  Shape shape(rank);
  int64_t count = 1;
  for (int d = 0; d < rank; ++d) {
    unsigned char b[4];
    BDL_CHECK(in.read(b, 4) == 4, path, ": header is truncated (", rank, " dimensions declared)");
    shape[d] = big_endian(b);
    // Checked before multiplying: four sizes of up to 2^32 overflow 64 bits.
    BDL_CHECK(shape[d] == 0 || count <= kMaxIdxElements / shape[d], path,
              ": declared shape is implausibly large");
    count *= shape[d];
  }
  Tensor out = Tensor::empty(shape, DType::u8);
  const int64_t body = in.read(out.raw_data(), count);
  BDL_CHECK(body == count, path, ": truncated, shape ", shape_str(shape), " needs ", count,
            " data bytes but the file has ", body);
  char extra;
  BDL_CHECK(in.read(&extra, 1) == 0, path, ": has trailing bytes after the ", count,
            " data bytes of shape ", shape_str(shape));
  return out;
}

void write_idx(const std::string& path, const Tensor& data) {
  BDL_CHECK(data.dtype() == DType::u8, path, ": IDX files hold u8 data, got ",
            dtype_name(data.dtype()));
  BDL_CHECK(data.dim() >= 1 && data.dim() <= 4, path, ": IDX rank ", data.dim(),
            ", expected 1 to 4");
  const Tensor c = data.contiguous();
  std::vector<unsigned char> header{0, 0, 0x08, static_cast<unsigned char>(c.dim())};
  for (int64_t d : c.shape()) {
    for (int s = 24; s >= 0; s -= 8) header.push_back(static_cast<unsigned char>(d >> s));
  }
  const bool gz = path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
  std::string bytes(header.begin(), header.end());
  bytes.append(static_cast<const char*>(c.raw_data()), static_cast<size_t>(c.numel()));
  if (gz) bytes = gzip(bytes, path);
  AtomicFile out(path);
  out.write(bytes.data(), bytes.size());
  out.commit();
}

}  // namespace bdl::data
