#include "bdl/data/idx.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

namespace bdl::data {
namespace {

constexpr int64_t kMaxIdxElements = int64_t{1} << 34;

struct GzCloser {
  void operator()(gzFile f) const { gzclose(f); }
};

// Reads exactly n bytes or reports how many were there.
int64_t read_fully(gzFile f, void* out, int64_t n, const std::string& path) {
  auto* p = static_cast<char*>(out);
  int64_t done = 0;
  while (done < n) {
    const auto chunk = static_cast<unsigned>(std::min<int64_t>(n - done, int64_t{1} << 30));
    const int got = gzread(f, p + done, chunk);
    if (got < 0) {
      int code = 0;
      const char* msg = gzerror(f, &code);
      fail(path, ": corrupt or unreadable data (", msg ? msg : "zlib error", ")");
    }
    if (got == 0) break;
    done += got;
  }
  return done;
}

uint32_t big_endian(const unsigned char* b) {
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
}

}  // namespace

Tensor read_idx(const std::string& path) {
  BDL_CHECK(std::filesystem::exists(path), path, ": no such file");
  std::unique_ptr<gzFile_s, GzCloser> file(gzopen(path.c_str(), "rb"));
  BDL_CHECK(file != nullptr, path, ": cannot open (", std::strerror(errno), ")");
  unsigned char magic[4];
  const int64_t got = read_fully(file.get(), magic, 4, path);
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
    BDL_CHECK(read_fully(file.get(), b, 4, path) == 4, path, ": header is truncated (", rank,
              " dimensions declared)");
    shape[d] = big_endian(b);
    count *= shape[d];
    BDL_CHECK(count <= kMaxIdxElements, path, ": declared shape is implausibly large");
  }
  Tensor out = Tensor::empty(shape, DType::u8);
  const int64_t body = read_fully(file.get(), out.raw_data(), count, path);
  BDL_CHECK(body == count, path, ": truncated, shape ", shape_str(shape), " needs ", count,
            " data bytes but the file has ", body);
  char extra;
  BDL_CHECK(read_fully(file.get(), &extra, 1, path) == 0, path, ": has trailing bytes after the ",
            count, " data bytes of shape ", shape_str(shape));
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
  const std::string tmp = path + ".tmp";
  const bool gz = path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
  gzFile f = gzopen(tmp.c_str(), gz ? "wb6" : "wbT");
  BDL_CHECK(f != nullptr, tmp, ": cannot create (", std::strerror(errno), ")");
  bool ok = gzwrite(f, header.data(), static_cast<unsigned>(header.size())) ==
            static_cast<int>(header.size());
  const auto* bytes = static_cast<const char*>(c.raw_data());
  for (int64_t done = 0; ok && done < c.numel();) {
    const auto chunk = static_cast<unsigned>(std::min<int64_t>(c.numel() - done, int64_t{1} << 30));
    ok = gzwrite(f, bytes + done, chunk) == static_cast<int>(chunk);
    done += chunk;
  }
  ok = (gzclose(f) == Z_OK) && ok;
  BDL_CHECK(ok, tmp, ": write failed");
  std::filesystem::rename(tmp, path);
}

}  // namespace bdl::data
