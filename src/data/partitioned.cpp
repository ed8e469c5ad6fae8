// Partitioned dataset directories (bdl split): one set of IDX parts per worker,
// and a manifest that says which parts make the split.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>

#include "bdl/core/file.h"
#include "bdl/data/dataset.h"
#include "bdl/data/idx.h"
#include "data/split_directory.h"

namespace bdl::data {
namespace {

using detail::split_dir;

namespace fs = std::filesystem;

constexpr const char* kManifest = "MANIFEST";
constexpr const char* kManifestHeader = "bdl-partitions 1";

std::string part_name(int64_t part, const char* kind) {
  char name[64];
  std::snprintf(name, sizeof name, "part-%05lld-%s-ubyte.gz", static_cast<long long>(part), kind);
  return name;
}

// The manifest: one line per part, "PART SAMPLES", after a header line.
struct Manifest {
  std::map<int64_t, int64_t> samples;  // by part
  int64_t total() const {
    int64_t n = 0;
    for (const auto& [part, count] : samples) n += count;
    return n;
  }
};

Manifest read_manifest(const fs::path& dir) {
  const fs::path path = dir / kManifest;
  std::error_code ec;
  BDL_CHECK(fs::exists(path, ec), dir.string(), ": no ", kManifest,
            " (not written by bdl split, or a split that did not finish): run bdl split again");
  std::istringstream in(InputFile(path.string()).read_all());
  std::string header;
  std::getline(in, header);
  BDL_CHECK(header == kManifestHeader, path.string(),
            ": not a bdl partition manifest (first line '", header, "')");
  Manifest m;
  long long part = 0, count = 0;
  int line = 1;
  std::string text;
  while (std::getline(in, text)) {
    ++line;
    if (text.empty()) continue;
    std::istringstream fields(text);
    std::string rest;
    BDL_CHECK((fields >> part >> count) && !(fields >> rest) && part >= 0 && part <= 99999 &&
                  count > 0 && m.samples.emplace(part, count).second,
              path.string(), ": line ", line, " ('", text, "') is not 'PART SAMPLES'");
  }
  BDL_CHECK(!m.samples.empty(), path.string(), ": lists no parts");
  BDL_CHECK(m.samples.rbegin()->first == static_cast<int64_t>(m.samples.size()) - 1, path.string(),
            ": parts are not numbered 0 to ", m.samples.size() - 1);
  return m;
}

// A part file of the directory: gzipped or not.
std::string existing(const fs::path& dir, int64_t part, const char* kind) {
  const fs::path gz = dir / part_name(part, kind);
  std::error_code ec;
  if (fs::exists(gz, ec)) return gz.string();
  std::string plain = gz.string();
  plain.resize(plain.size() - 3);
  return plain;
}

// Files named like parts that the manifest does not list: left by something
// other than bdl split, and never read silently.
void check_no_strays(const fs::path& dir, const Manifest& m) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    long long part = -1;
    if (std::sscanf(name.c_str(), "part-%5lld-", &part) == 1) {
      BDL_CHECK(m.samples.count(part) != 0, entry.path().string(), ": part ", part, " is not in ",
                (dir / kManifest).string(), " (", m.samples.size(),
                " parts): remove it, or split again");
    }
  }
}

// Writes the parts and the manifest of one split into `dir`.
void write_parts(const Dataset& dataset, const fs::path& dir, int64_t parts) {
  BDL_CHECK(dataset.target_kind() == TargetKind::classes, dataset.name(),
            ": IDX parts hold class labels, the targets are values");
  const Dataset cut = dataset.partitioned(parts);
  std::string manifest = kManifestHeader;
  manifest += '\n';
  for (int64_t p = 0; p < parts; ++p) {
    const Partition& range = cut.partitions()[static_cast<size_t>(p)];
    Tensor images = dataset.features().narrow(0, range.begin, range.size());
    if (images.dim() == 4 && images.size(1) == 1) {
      images = images.contiguous().view({images.size(0), images.size(2), images.size(3)});
    }
    const Tensor labels64 = dataset.targets().narrow(0, range.begin, range.size());
    Tensor labels = Tensor::empty({range.size()}, DType::u8);
    for (int64_t i = 0; i < range.size(); ++i) {
      const int64_t y = labels64.at_i64({i});
      BDL_CHECK(y >= 0 && y < 256, dataset.name(), ": label ", y, " does not fit an IDX byte");
      labels.data<uint8_t>()[i] = static_cast<uint8_t>(y);
    }
    write_idx((dir / part_name(p, "images-idx3")).string(), images);
    write_idx((dir / part_name(p, "labels-idx1")).string(), labels);
    manifest += std::to_string(p);
    manifest += ' ';
    manifest += std::to_string(range.size());
    manifest += '\n';
  }
  AtomicFile out((dir / kManifest).string());
  out.write(manifest.data(), manifest.size());
  out.commit();
}

// A split directory may be replaced when it holds only what bdl split or bdl
// convert writes (an older version's splits have no manifest).
void check_replaceable(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return;
  BDL_CHECK(fs::is_directory(dir, ec), dir.string(), " exists and is not a directory");
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    BDL_CHECK(name == kManifest || (name.rfind("part-", 0) == 0 && entry.is_regular_file()),
              dir.string(), " holds ", name,
              ", which bdl did not write: choose another output directory");
  }
}

}  // namespace

bool is_partitioned_dir(const std::string& directory) {
  return fs::is_directory(fs::path(directory) / "train");
}

int64_t partitioned_size(const std::string& directory, Split split) {
  return read_manifest(fs::path(directory) / split_dir(split)).total();
}

Dataset partitioned_idx(const std::string& directory, Split split, int rank, int workers) {
  const fs::path dir = fs::path(directory) / split_dir(split);
  BDL_CHECK(fs::is_directory(dir), dir.string(), ": not a directory");
  const Manifest m = read_manifest(dir);
  const auto parts = static_cast<int64_t>(m.samples.size());
  BDL_CHECK(parts % workers == 0, dir.string(), ": ", parts, " parts cannot be shared equally by ",
            workers, " workers (some would train on more data than others, and an epoch would ",
            "skip samples): split into a multiple of ", workers, " parts");
  check_no_strays(dir, m);
  // Only this worker's parts need to be present (a machine may hold no others).
  std::vector<Dataset> mine;
  for (int64_t p = rank; p < parts; p += workers) {
    const std::string images = existing(dir, p, "images-idx3");
    BDL_CHECK(fs::exists(images), dir.string(), ": part ", p, " of worker ", rank, " of ", workers,
              " is missing (", part_name(p, "images-idx3"), "[.gz])");
    mine.push_back(idx(images, existing(dir, p, "labels-idx1")));
    BDL_CHECK(mine.back().size() == m.samples.at(p), images, ": ", mine.back().size(),
              " samples, the manifest says ", m.samples.at(p));
  }
  return concat_partitions(std::move(mine), dir.string());
}

void write_partitioned(const Dataset& dataset, const std::string& directory, Split split,
                       int64_t parts) {
  detail::replace_split_directory(directory, split,
                                  [&](const fs::path& dir) { write_parts(dataset, dir, parts); });
}

namespace detail {

const char* split_dir(Split split) { return split == Split::train ? "train" : "test"; }

void replace_split_directory(const std::string& directory, Split split,
                             const std::function<void(const std::filesystem::path&)>& write) {
  const fs::path final_dir = fs::path(directory) / split_dir(split);
  // Hidden siblings: ".train.partial-PID" while writing, ".train.old-PID" while replacing.
  auto sibling = [&](const char* what) {
    std::string name = ".";
    name += split_dir(split);
    name += what;
    name += std::to_string(::getpid());
    return fs::path(directory) / name;
  };
  const fs::path partial = sibling(".partial-"), old = sibling(".old-");
  check_replaceable(final_dir);
  fs::create_directories(partial);
  try {
    write(partial);
  } catch (...) {
    std::error_code ec;
    fs::remove_all(partial, ec);
    throw;
  }
  std::error_code ec;
  const bool had_old = fs::exists(final_dir, ec);
  if (had_old) fs::rename(final_dir, old);
  fs::rename(partial, final_dir);
  if (had_old) fs::remove_all(old, ec);
}

}  // namespace detail
}  // namespace bdl::data
