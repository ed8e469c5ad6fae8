#include "bdl/data/record_shards.h"

#include <glob.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "bdl/core/error.h"
#include "bdl/core/file.h"
#include "bdl/data/example.h"
#include "bdl/data/record_file.h"
#include "data/sample_record.h"
#include "data/split_directory.h"

namespace bdl::data {
namespace {

namespace fs = std::filesystem;

Example example_of(const Dataset& d, int64_t i) {
  Example e;
  const Tensor& x = d.features();
  const int64_t per_sample = shape_numel(d.sample_shape());
  if (x.dtype() == DType::u8) {
    const auto* p = x.data<uint8_t>() + i * per_sample;
    e["features"] = Feature::of_bytes(
        std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(per_sample)));
  } else {
    const float* p = x.f32() + i * per_sample;
    e["features"] = Feature::of_floats(std::vector<float>(p, p + per_sample));
  }
  const Shape& shape = d.sample_shape();
  e["shape"] = Feature::of_ints(std::vector<int64_t>(shape.begin(), shape.end()));
  if (d.target_kind() == TargetKind::classes) {
    e["label"] = Feature::of_ints({d.targets().data<int64_t>()[i]});
  } else {
    const int64_t n = shape_numel(d.target_shape());
    const float* t = d.targets().f32() + i * n;
    e["label"] = Feature::of_floats(std::vector<float>(t, t + n));
  }
  if (d.weights().defined()) e["weight"] = Feature::of_floats({d.weights().f32()[i]});
  return e;
}

// Folds one record into the description (the first record sets what the
// others must agree with).
void describe_record(const detail::SampleRecord& r, const std::string& where, ShardsInfo& info) {
  const std::string features = r.features_kind == Feature::Kind::bytes ? "u8" : "f32";
  const std::string targets = r.label_kind == Feature::Kind::ints ? "classes" : "values";
  if (info.samples == 0) {
    info.sample_shape = r.shape;
    info.features = features;
    info.targets = targets;
    info.weighted = r.has_weight;
  }
  BDL_CHECK(r.shape == info.sample_shape && features == info.features && targets == info.targets,
            where, ": a sample of shape ", shape_str(r.shape), " (", features, ", ", targets,
            ") among samples of shape ", shape_str(info.sample_shape), " (", info.features, ", ",
            info.targets, ")");
  BDL_CHECK(r.has_weight == info.weighted, where, ": ", r.has_weight ? "a" : "no",
            " \"weight\" where the first record has ", info.weighted ? "one" : "none");
  if (targets == "classes") {
    BDL_CHECK(r.label_ints[0] >= 0, where, ": \"label\" is the class ", r.label_ints[0],
              "; class indices are not negative");
    info.classes = std::max(info.classes, r.label_ints[0] + 1);
  } else {
    info.classes = static_cast<int64_t>(r.label_floats.size());
  }
  ++info.samples;
}

constexpr const char* kManifest = "MANIFEST";
constexpr const char* kManifestHeader = "bdl-record-shards 1";

std::string manifest_text(const ShardsInfo& info) {
  std::ostringstream out;
  out << kManifestHeader << "\nsamples " << info.samples << "\nshape";
  for (int64_t d : info.sample_shape) out << ' ' << d;
  out << "\nfeatures " << info.features << "\ntargets " << info.targets << ' ' << info.classes
      << "\nweighted " << (info.weighted ? 1 : 0) << '\n';
  for (size_t s = 0; s < info.files.size(); ++s) {
    out << "shard " << info.files[s] << ' ' << info.shard_samples[s] << ' ' << info.shard_bytes[s]
        << '\n';
  }
  return out.str();
}

ShardsInfo read_manifest(const fs::path& dir) {
  const std::string path = (dir / kManifest).string();
  std::istringstream in(InputFile(path).read_all());
  std::string line;
  std::getline(in, line);
  BDL_CHECK(line == kManifestHeader, path, ": not a bdl record-shard manifest (first line '", line,
            "')");
  ShardsInfo info;
  int number = 1;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    std::istringstream fields(line);
    std::string key;
    fields >> key;
    bool ok = true;
    if (key == "samples") {
      ok = static_cast<bool>(fields >> info.samples);
    } else if (key == "shape") {
      for (int64_t d = 0; fields >> d;) info.sample_shape.push_back(d);
    } else if (key == "features") {
      ok = static_cast<bool>(fields >> info.features) &&
           (info.features == "u8" || info.features == "f32");
    } else if (key == "targets") {
      ok = static_cast<bool>(fields >> info.targets >> info.classes) &&
           (info.targets == "classes" || info.targets == "values");
    } else if (key == "weighted") {
      int w = 0;
      ok = static_cast<bool>(fields >> w);
      info.weighted = w != 0;
    } else if (key == "shard") {
      std::string name;
      int64_t samples = 0, bytes = 0;
      ok = static_cast<bool>(fields >> name >> samples >> bytes) && samples >= 0 && bytes >= 0 &&
           name.find('/') == std::string::npos;
      info.files.push_back(name);
      info.shard_samples.push_back(samples);
      info.shard_bytes.push_back(bytes);
      info.bytes += bytes;
    } else {
      ok = false;
    }
    BDL_CHECK(ok, path, ": line ", number, " ('", line, "') is not a manifest line");
  }
  info.shards = static_cast<int64_t>(info.files.size());
  int64_t total = 0;
  for (int64_t n : info.shard_samples) total += n;
  BDL_CHECK(total == info.samples && !info.features.empty() && !info.targets.empty(), path,
            ": incomplete (its shards hold ", total, " samples, it says ", info.samples, ")");
  info.from_manifest = true;
  return info;
}

std::vector<fs::path> shard_files(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("part-", 0) == 0 && entry.path().extension() == ".tfrecord") {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

std::string shard_name(int64_t shard, int64_t shards) {
  char name[64];
  std::snprintf(name, sizeof name, "part-%05lld-of-%05lld.tfrecord", static_cast<long long>(shard),
                static_cast<long long>(shards));
  return name;
}

void write_record_shards(const Dataset& dataset, const std::string& directory, Split split,
                         int64_t shards) {
  BDL_CHECK(dataset.size() >= shards, dataset.name(), ": ", dataset.size(), " samples cannot fill ",
            shards, " shards");
  ShardsInfo info;
  info.sample_shape = dataset.sample_shape();
  info.features = dataset.features().dtype() == DType::u8 ? "u8" : "f32";
  info.targets = dataset.target_kind() == TargetKind::classes ? "classes" : "values";
  info.classes = dataset.num_classes();
  info.weighted = dataset.weights().defined();
  write_record_shards(
      dataset.size(), info, [&](int64_t i, Example& e) { e = example_of(dataset, i); }, directory,
      split, shards);
}

void write_record_shards(int64_t samples, const ShardsInfo& description,
                         const std::function<void(int64_t, Example&)>& make,
                         const std::string& directory, Split split, int64_t shards) {
  BDL_CHECK(shards > 0 && shards <= 99999, "shards: between 1 and 99999, got ", shards);
  BDL_CHECK(samples >= shards, directory, ": ", samples, " samples cannot fill ", shards,
            " shards");
  ShardsInfo info = description;
  info.samples = samples;
  info.files.clear();
  info.shard_samples.clear();
  info.shard_bytes.clear();
  detail::replace_split_directory(directory, split, [&](const fs::path& dir) {
    Example e;
    for (int64_t s = 0; s < shards; ++s) {
      const std::string name = shard_name(s, shards);
      RecordWriter out((dir / name).string());
      for (int64_t i = s * samples / shards; i < (s + 1) * samples / shards; ++i) {
        make(i, e);
        out.write(encode_example(e));
      }
      out.close();
      info.files.push_back(name);
      info.shard_samples.push_back(out.records());
      info.shard_bytes.push_back(out.bytes());
    }
    const std::string text = manifest_text(info);
    AtomicFile manifest((dir / kManifest).string());
    manifest.write(text.data(), text.size());
    manifest.commit();
  });
}

bool is_record_shard_dir(const std::string& directory) {
  const fs::path dir = fs::path(directory) / "train";
  return fs::is_directory(dir) && !shard_files(dir).empty();
}

ShardsInfo describe_record_shards(const std::string& directory, Split split, bool read_all) {
  const fs::path dir = fs::path(directory) / detail::split_dir(split);
  BDL_CHECK(fs::is_directory(dir), dir.string(), ": not a directory");
  const std::vector<fs::path> files = shard_files(dir);
  BDL_CHECK(!files.empty(), dir.string(), ": no part-*.tfrecord shards");
  if (!read_all && fs::exists(dir / kManifest)) {
    ShardsInfo info = read_manifest(dir);
    // A manifest names the shards as they were written: shards changed since
    // are caught here, before a run counts on them. A machine may hold only
    // some of them (its workers' own): the others are marked absent.
    for (const fs::path& f : files) {
      const std::string name = f.filename().string();
      BDL_CHECK(std::find(info.files.begin(), info.files.end(), name) != info.files.end(),
                f.string(),
                ": a shard the MANIFEST does not list (remove the MANIFEST to read the shards "
                "without it)");
    }
    for (size_t s = 0; s < info.files.size(); ++s) {
      const fs::path file = dir / info.files[s];
      info.files[s] = file.string();
      std::error_code ec;
      const auto size = static_cast<int64_t>(fs::file_size(file, ec));
      info.present.push_back(!ec);
      if (ec) continue;
      BDL_CHECK(size == info.shard_bytes[s], file.string(), ": ", size,
                " bytes, the MANIFEST says ", info.shard_bytes[s],
                " (changed since it was written; remove the MANIFEST to read the shards without "
                "it)");
    }
    return info;
  }
  std::vector<std::string> paths;
  paths.reserve(files.size());
  for (const fs::path& f : files) paths.push_back(f.string());
  return describe_record_files(paths);
}

ShardsInfo describe_record_files(const std::vector<std::string>& files) {
  ShardsInfo info;
  std::string data;
  detail::SampleRecord record;
  for (const std::string& file : files) {
    RecordReader reader(file);
    const int64_t before = info.samples;
    for (int64_t at = 0; reader.next(data); at = reader.offset()) {
      const auto* bytes = reinterpret_cast<const uint8_t*>(data.data());
      const std::string where = bdl::detail::concat(file, ": record at byte ", at);
      detail::read_sample_record({bytes, data.size()}, record, where);
      describe_record(record, where, info);
    }
    info.files.push_back(file);
    info.present.push_back(true);
    info.shard_samples.push_back(info.samples - before);
    info.shard_bytes.push_back(reader.file_size());
    info.bytes += reader.file_size();
    ++info.shards;
  }
  return info;
}

bool is_record_glob(const std::string& source) {
  return source.find_first_of("*?[") != std::string::npos;
}

std::vector<std::string> glob_record_files(const std::string& pattern) {
  glob_t found{};
  const int rc = ::glob(pattern.c_str(), 0, nullptr, &found);
  std::vector<std::string> files;
  for (size_t i = 0; rc == 0 && i < found.gl_pathc; ++i) {
    std::error_code ec;
    if (fs::is_regular_file(found.gl_pathv[i], ec)) files.emplace_back(found.gl_pathv[i]);
  }
  globfree(&found);
  BDL_CHECK(!files.empty(), pattern, ": no files match");
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace bdl::data
