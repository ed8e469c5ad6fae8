#include "bdl/io/model_file.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <set>

#include "bdl/core/file.h"
#include "src/io/bdl_format.pb.h"

namespace bdl::io {

namespace {

constexpr char kMagic[8] = {'\x89', 'B', 'D', 'L', '\r', '\n', '\x1a', '\n'};
constexpr uint32_t kVersion = 1;
constexpr uint64_t kPrefixBytes = 24;  // magic, version, flags, header length
constexpr uint64_t kAlignment = 64;
constexpr uint64_t kMaxHeaderBytes = uint64_t{1} << 28;
constexpr int kMaxDepth = 64;

uint64_t align(uint64_t n) { return (n + kAlignment - 1) / kAlignment * kAlignment; }

// ---- writing ----

// The bulk data of a file: pieces of memory, each described by a TensorEntry.
class DataPlan {
 public:
  void add(format::TensorEntry* entry, const std::string& name, const Shape& shape,
           const void* data, size_t bytes) {
    entry->set_name(name);
    entry->set_dtype(format::F32);
    for (int64_t s : shape) entry->add_shape(s);
    entry->set_offset(size_);
    entry->set_bytes(bytes);
    entry->set_checksum(checksum(data, bytes));
    pieces_.push_back({data, bytes});
    size_ = align(size_ + bytes);
  }
  void add_tensor(format::TensorEntry* entry, const std::string& name, const Tensor& t) {
    BDL_CHECK(t.dtype() == DType::f32, name, ": only f32 tensors are saved");
    kept_.push_back(t.contiguous());
    add(entry, name, t.shape(), kept_.back().raw_data(), static_cast<size_t>(t.numel()) * 4);
  }
  uint64_t size() const { return size_; }
  void write(AtomicFile& out) const {
    const uint64_t start = out.written();
    for (const auto& p : pieces_) {
      out.write(p.data, p.bytes);
      const uint64_t at = out.written() - start;
      const uint64_t pad = align(at) - at;
      static const char zeros[kAlignment] = {};
      out.write(zeros, pad);
    }
  }

 private:
  struct Piece {
    const void* data;
    size_t bytes;
  };
  std::vector<Piece> pieces_;
  std::vector<Tensor> kept_;  // contiguous copies of non-contiguous tensors
  uint64_t size_ = 0;
};

void to_proto(const nn::Attributes& attributes, format::Module* out) {
  for (const auto& [name, value] : attributes.entries()) {
    auto* a = out->add_attributes();
    a->set_name(name);
    std::visit(
        [a](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, int64_t>) {
            a->set_integer(v);
          } else if constexpr (std::is_same_v<T, double>) {
            a->set_real(v);
          } else if constexpr (std::is_same_v<T, std::string>) {
            a->set_text(v);
          } else if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
            a->mutable_integers()->mutable_values()->Add(v.begin(), v.end());
          } else if constexpr (std::is_same_v<T, std::vector<double>>) {
            a->mutable_reals()->mutable_values()->Add(v.begin(), v.end());
          } else {
            for (const auto& s : v) a->mutable_texts()->add_values(s);
          }
        },
        value);
  }
}

void describe_module(nn::Module& module, format::Module* out) {
  out->set_type(module.type());
  out->set_name(module.name());
  nn::Attributes attributes(module.label());
  module.attributes(attributes);
  to_proto(attributes, out);
  for (nn::Module* child : module.children()) describe_module(*child, out->add_children());
}

void describe_model(nn::Module& model, const ModelMetadata& info, format::Model* out,
                    DataPlan& plan) {
  describe_module(model, out->mutable_root());
  for (const auto& p : model.parameters()) {
    plan.add_tensor(out->add_parameters(), p.name, *p.value);
  }
  for (const auto& b : model.buffers()) plan.add_tensor(out->add_buffers(), b.name, *b.value);
  for (int64_t s : info.input_shape) out->add_input_shape(s);
  out->set_description(info.description);
  out->set_input_mean(info.input_mean);
  out->set_input_std(info.input_std);
}

void write_file(const std::string& path, format::Header& header, const DataPlan& plan) {
  header.set_producer("bdl");
  header.set_data_bytes(plan.size());
  std::string bytes;
  BDL_CHECK(header.SerializeToString(&bytes), path, ": the header does not serialise");
  AtomicFile out(path);
  out.write(kMagic, sizeof kMagic);
  const uint32_t version = kVersion, flags = 0;
  const uint64_t length = bytes.size();
  out.write(&version, 4);
  out.write(&flags, 4);
  out.write(&length, 8);
  out.write(bytes.data(), bytes.size());
  const uint64_t sum = checksum(bytes.data(), bytes.size());
  out.write(&sum, 8);
  out.pad_to(kAlignment);
  plan.write(out);
  out.commit();
}

// ---- reading ----

nn::Attributes from_proto(const format::Module& m, const std::string& owner) {
  nn::Attributes a(owner);
  for (const auto& attribute : m.attributes()) {
    const std::string& name = attribute.name();
    switch (attribute.value_case()) {
      case format::Attribute::kInteger:
        a.set(name, static_cast<int64_t>(attribute.integer()));
        break;
      case format::Attribute::kReal:
        a.set(name, attribute.real());
        break;
      case format::Attribute::kText:
        a.set(name, attribute.text());
        break;
      case format::Attribute::kIntegers:
        a.set(name, std::vector<int64_t>(attribute.integers().values().begin(),
                                         attribute.integers().values().end()));
        break;
      case format::Attribute::kReals:
        a.set(name, std::vector<double>(attribute.reals().values().begin(),
                                        attribute.reals().values().end()));
        break;
      case format::Attribute::kTexts:
        a.set(name, std::vector<std::string>(attribute.texts().values().begin(),
                                             attribute.texts().values().end()));
        break;
      default:
        fail(owner, ": attribute '", name, "' has no value");
    }
  }
  return a;
}

std::unique_ptr<nn::Module> build(const format::Module& m, const std::string& file,
                                  const std::string& path, int depth) {
  const std::string where = path.empty() ? m.type() : path;
  const std::string owner = file + ": " + where + " (" + m.type() + ")";
  BDL_CHECK(depth < kMaxDepth, owner, ": modules nested more than ", kMaxDepth, " deep");
  std::vector<std::unique_ptr<nn::Module>> children;
  for (int i = 0; i < m.children_size(); ++i) {
    const auto& c = m.children(i);
    std::string child = path.empty() ? path : path + '.';
    child += c.name().empty() ? std::to_string(i) : c.name();
    children.push_back(build(c, file, child, depth + 1));
  }
  std::unique_ptr<nn::Module> module;
  try {
    module = nn::create_module(m.type(), from_proto(m, owner), std::move(children));
  } catch (const Error& e) {
    const std::string what = e.what();
    if (what.rfind(file, 0) == 0) throw;
    fail(owner, ": ", what);
  }
  if (!m.name().empty()) module->set_name(m.name());
  return module;
}

// Reads a file's header and checks its frame.
struct Frame {
  format::Header header;
  uint64_t data_start = 0;
};

Frame read_frame(const InputFile& in) {
  const std::string& path = in.path();
  char prefix[kPrefixBytes];
  BDL_CHECK(in.size() >= kPrefixBytes, path, ": not a bdl model (", in.size(),
            " bytes, shorter than the header)");
  in.read(prefix, kPrefixBytes, 0, "the file prefix");
  BDL_CHECK(std::memcmp(prefix, kMagic, sizeof kMagic) == 0, path,
            ": not a bdl model (wrong magic bytes; an ONNX file is loaded with bdl import)");
  uint32_t version;
  uint64_t length;
  std::memcpy(&version, prefix + 8, 4);
  std::memcpy(&length, prefix + 16, 8);
  BDL_CHECK(version >= 1 && version <= kVersion, path, ": format version ", version,
            " (this bdl reads version ", kVersion, "; written by a newer bdl?)");
  BDL_CHECK(length <= kMaxHeaderBytes, path, ": header of ", length, " bytes: corrupt");
  std::string bytes(length, '\0');
  in.read(bytes.data(), length, kPrefixBytes, "the header");
  uint64_t sum;
  in.read(&sum, 8, kPrefixBytes + length, "the header checksum");
  BDL_CHECK(sum == checksum(bytes.data(), bytes.size()), path,
            ": header checksum mismatch: the file is corrupt");
  Frame f;
  BDL_CHECK(f.header.ParseFromString(bytes), path, ": header does not parse: the file is corrupt");
  f.data_start = align(kPrefixBytes + length + 8);
  const uint64_t data_bytes = f.header.data_bytes();
  BDL_CHECK(f.data_start <= in.size() && data_bytes <= in.size() - f.data_start, path,
            ": truncated: the data section needs ", data_bytes, " bytes at offset ", f.data_start,
            ", the file has ", in.size());
  BDL_CHECK(f.header.has_model(), path, ": no model in the file");
  return f;
}

Shape shape_of(const format::TensorEntry& e) { return {e.shape().begin(), e.shape().end()}; }

// Checks an entry against the data section and reads it into `out` (bytes long).
void read_entry(const InputFile& in, const Frame& f, const format::TensorEntry& e, void* out,
                size_t bytes, const std::string& what) {
  const std::string& path = in.path();
  BDL_CHECK(e.dtype() == format::F32, path, ": ", what, " is not f32");
  BDL_CHECK(e.bytes() == bytes, path, ": ", what, " holds ", e.bytes(), " bytes, expected ", bytes);
  const uint64_t data_bytes = f.header.data_bytes();
  BDL_CHECK(e.offset() <= data_bytes && e.bytes() <= data_bytes - e.offset(), path, ": ", what,
            " lies outside the data section");
  in.read(out, bytes, f.data_start + e.offset(), what.c_str());
  BDL_CHECK(checksum(out, bytes) == e.checksum(), path, ": ", what,
            ": checksum mismatch: the file is corrupt");
}

// Reads the parameters and buffers listed in the file into the model's tensors,
// checking that names and shapes agree both ways.
void read_weights(const InputFile& in, const Frame& f, nn::Module& model) {
  const std::string& path = in.path();
  auto fill = [&](const auto& entries, std::map<std::string, Tensor*> targets, const char* kind) {
    std::set<std::string> seen;
    for (const auto& e : entries) {
      const auto it = targets.find(e.name());
      BDL_CHECK(it != targets.end(), path, ": ", kind, " '", e.name(),
                "' is not one of the model's");
      BDL_CHECK(seen.insert(e.name()).second, path, ": ", kind, " '", e.name(), "' twice");
      Tensor& t = *it->second;
      BDL_CHECK(shape_of(e) == t.shape(), path, ": ", kind, " '", e.name(), "' has shape ",
                shape_str(shape_of(e)), " in the file, the layer expects ", t.shape_str());
      BDL_CHECK(t.is_contiguous(), path, ": ", kind, " '", e.name(), "' is not contiguous");
      read_entry(in, f, e, t.raw_data(), static_cast<size_t>(t.numel()) * 4,
                 std::string(kind) + " '" + e.name() + "'");
    }
    std::string missing;
    int count = 0;
    for (const auto& [name, t] : targets) {
      if (seen.count(name) != 0) continue;
      missing += (count++ ? ", '" : "'") + name + "'";
    }
    BDL_CHECK(count == 0, path, ": ", kind, count > 1 ? "s " : " ", missing,
              count > 1 ? " are" : " is", " missing");
  };
  std::map<std::string, Tensor*> params, buffers;
  for (const auto& p : model.parameters()) params[p.name] = p.value;
  for (const auto& b : model.buffers()) buffers[b.name] = b.value;
  fill(f.header.model().parameters(), params, "parameter");
  fill(f.header.model().buffers(), buffers, "buffer");
}

LoadedModel load(const InputFile& in, const Frame& f) {
  const auto& m = f.header.model();
  BDL_CHECK(m.has_root(), in.path(), ": the model has no modules");
  LoadedModel out;
  {
    // Layers allocate their weights (and gradients) from sizes in the file: a
    // corrupt size must fail here, not exhaust memory.
    AllocationBudget budget(2 * f.header.data_bytes() + (uint64_t{64} << 20), in.path());
    nn::SkipInitialisation weights_come_from_the_file;
    out.model = build(m.root(), in.path(), "", 0);
  }
  read_weights(in, f, *out.model);
  out.metadata.input_shape.assign(m.input_shape().begin(), m.input_shape().end());
  out.metadata.description = m.description();
  out.metadata.input_mean = m.input_mean();
  out.metadata.input_std = m.input_std();
  out.is_checkpoint = f.header.has_training();
  return out;
}

optim::TrainingState read_training(const InputFile& in, const Frame& f) {
  const std::string& path = in.path();
  BDL_CHECK(f.header.has_training(), path, ": a model, not a checkpoint (no training state)");
  const auto& t = f.header.training();
  optim::TrainingState s;
  s.iteration = t.iteration();
  s.epoch = t.epoch();
  s.next_batch = t.next_batch();
  s.epochs_completed = t.epochs_completed();
  s.seed = t.seed();
  s.batch_size = t.batch_size();
  s.base_lr = t.base_lr();
  s.method = t.method();
  s.schedule.assign(t.schedule().begin(), t.schedule().end());
  s.parameter_count = t.parameter_count();
  BDL_CHECK(s.iteration >= 0 && s.epoch >= 0 && s.next_batch >= 0 && s.parameter_count >= 0, path,
            ": negative position in the training state");
  for (const auto& w : t.workers()) {
    optim::WorkerState ws;
    ws.offset = w.offset();
    ws.length = w.length();
    BDL_CHECK(ws.offset >= 0 && ws.length >= 0 && ws.offset <= s.parameter_count &&
                  ws.length <= s.parameter_count - ws.offset,
              path, ": worker slice [", ws.offset, ", +", ws.length, ") outside the ",
              s.parameter_count, " parameters");
    auto read_vector = [&](const format::TensorEntry& e) {
      BDL_CHECK(e.bytes() % 4 == 0 && e.bytes() <= f.header.data_bytes(), path, ": '", e.name(),
                "' has a bad size");
      std::vector<float> v(e.bytes() / 4);
      read_entry(in, f, e, v.data(), e.bytes(), "'" + e.name() + "'");
      return v;
    };
    for (const auto& e : w.method_vectors()) {
      auto v = read_vector(e);
      BDL_CHECK(v.empty() || static_cast<int64_t>(v.size()) == ws.length, path, ": '", e.name(),
                "' holds ", v.size(), " values for a slice of ", ws.length);
      const auto slash = e.name().rfind('/');
      ws.method.vectors.emplace_back(e.name().substr(slash + 1), std::move(v));
    }
    for (const auto& sv : w.method_scalars()) ws.method.scalars.emplace_back(sv.name(), sv.value());
    if (w.has_buffers()) ws.buffers = read_vector(w.buffers());
    BDL_CHECK(w.random_streams_size() % 4 == 0, path, ": random stream state is not 4 words each");
    for (int i = 0; i < w.random_streams_size(); i += 4) {
      ws.random_streams.push_back({w.random_streams(i), w.random_streams(i + 1),
                                   w.random_streams(i + 2), w.random_streams(i + 3)});
    }
    s.workers.push_back(std::move(ws));
  }
  return s;
}

}  // namespace

void save_model(nn::Module& model, const std::string& path, const ModelMetadata& info) {
  format::Header header;
  DataPlan plan;
  describe_model(model, info, header.mutable_model(), plan);
  write_file(path, header, plan);
}

LoadedModel load_model(const std::string& path) {
  InputFile in(path);
  return load(in, read_frame(in));
}

void save_checkpoint(nn::Module& model, const optim::TrainingState& state, const std::string& path,
                     const ModelMetadata& info) {
  format::Header header;
  DataPlan plan;
  describe_model(model, info, header.mutable_model(), plan);
  auto* t = header.mutable_training();
  t->set_iteration(state.iteration);
  t->set_epoch(state.epoch);
  t->set_next_batch(state.next_batch);
  t->set_epochs_completed(state.epochs_completed);
  t->set_seed(state.seed);
  t->set_batch_size(state.batch_size);
  t->set_base_lr(state.base_lr);
  t->set_method(state.method);
  t->mutable_schedule()->Add(state.schedule.begin(), state.schedule.end());
  t->set_parameter_count(state.parameter_count);
  for (size_t r = 0; r < state.workers.size(); ++r) {
    const auto& ws = state.workers[r];
    auto* w = t->add_workers();
    w->set_offset(ws.offset);
    w->set_length(ws.length);
    const std::string prefix = "worker" + std::to_string(r) + "/";
    for (const auto& [name, v] : ws.method.vectors) {
      plan.add(w->add_method_vectors(), prefix + name, {static_cast<int64_t>(v.size())}, v.data(),
               v.size() * 4);
    }
    for (const auto& [name, v] : ws.method.scalars) {
      auto* sv = w->add_method_scalars();
      sv->set_name(name);
      sv->set_value(v);
    }
    plan.add(w->mutable_buffers(), prefix + "buffers", {static_cast<int64_t>(ws.buffers.size())},
             ws.buffers.data(), ws.buffers.size() * 4);
    for (const auto& s : ws.random_streams) {
      for (uint64_t word : s) w->add_random_streams(word);
    }
  }
  write_file(path, header, plan);
}

LoadedCheckpoint load_checkpoint(const std::string& path) {
  InputFile in(path);
  const Frame f = read_frame(in);
  LoadedCheckpoint out;
  out.training = read_training(in, f);
  out.model = load(in, f);
  return out;
}

optim::TrainingState restore_checkpoint(nn::Module& model, const std::string& path) {
  InputFile in(path);
  const Frame f = read_frame(in);
  optim::TrainingState s = read_training(in, f);
  read_weights(in, f, model);
  return s;
}

bool looks_like_native_model(const std::string& path) {
  try {
    InputFile in(path);
    char magic[sizeof kMagic];
    if (in.size() < sizeof magic) return false;
    in.read(magic, sizeof magic, 0, "the magic bytes");
    return std::memcmp(magic, kMagic, sizeof magic) == 0;
  } catch (const Error&) {
    return false;
  }
}

// ---- checkpoint directories ----

namespace {

constexpr const char* kCheckpointPrefix = "checkpoint-";
constexpr const char* kCheckpointSuffix = ".bdl";

// A checkpoint file's name: its iteration, and its lineage (0 for the names of
// older versions, checkpoint-ITERATION.bdl). Other names are not checkpoints.
struct CheckpointName {
  long long iteration = -1;
  uint64_t lineage = 0;
};

std::optional<CheckpointName> parse_checkpoint_name(const std::string& name) {
  const std::string prefix = kCheckpointPrefix, suffix = kCheckpointSuffix;
  if (name.size() <= prefix.size() + suffix.size() || name.rfind(prefix, 0) != 0 ||
      name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) {
    return std::nullopt;
  }
  const std::string stem = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  const auto digits = [](const std::string& t, const char* allowed) {
    return !t.empty() && t.find_first_not_of(allowed) == std::string::npos;
  };
  CheckpointName out;
  const size_t dash = stem.find('-');
  const std::string iteration = stem.substr(0, dash);
  if (!digits(iteration, "0123456789") || iteration.size() > 18) return std::nullopt;
  out.iteration = std::stoll(iteration);
  if (dash == std::string::npos) return out;
  const std::string lineage = stem.substr(dash + 1);
  if (lineage.size() != 16 || !digits(lineage, "0123456789abcdef")) return std::nullopt;
  out.lineage = std::stoull(lineage, nullptr, 16);
  return out;
}

uint64_t fresh_lineage() {
  std::random_device device;
  uint64_t value = 0;
  while (value == 0) value = (uint64_t{device()} << 32) ^ device();
  return value;
}

}  // namespace

CheckpointDirectory::CheckpointDirectory(std::string dir, int keep)
    : dir_(std::move(dir)), keep_(keep), lineage_(fresh_lineage()) {
  BDL_CHECK(keep >= 1, "checkpoints: keep at least 1, got ", keep);
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  BDL_CHECK(!ec && std::filesystem::is_directory(dir_), dir_,
            ": cannot create the checkpoint directory: ", ec.message());
}

std::vector<std::string> CheckpointDirectory::list() const {
  std::vector<std::pair<long long, std::string>> found;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir_, ec)) {
    const auto name = parse_checkpoint_name(e.path().filename().string());
    if (name) found.emplace_back(name->iteration, e.path().string());
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> out;
  out.reserve(found.size());
  for (auto& [iteration, path] : found) out.push_back(std::move(path));
  return out;
}

std::string CheckpointDirectory::latest() const {
  const auto all = list();
  return all.empty() ? "" : all.back();
}

void CheckpointDirectory::continue_lineage_of(const std::string& checkpoint) {
  const auto name = parse_checkpoint_name(std::filesystem::path(checkpoint).filename().string());
  if (name && name->lineage != 0) lineage_ = name->lineage;
}

std::string CheckpointDirectory::save(nn::Module& model, const optim::TrainingState& state,
                                      const ModelMetadata& info) {
  char name[96];
  std::snprintf(name, sizeof name, "%s%012lld-%016llx%s", kCheckpointPrefix,
                static_cast<long long>(state.iteration), static_cast<unsigned long long>(lineage_),
                kCheckpointSuffix);
  std::string path = (std::filesystem::path(dir_) / name).string();
  save_checkpoint(model, state, path, info);
  std::vector<std::string> mine;
  for (const auto& p : list()) {
    const auto parsed = parse_checkpoint_name(std::filesystem::path(p).filename().string());
    if (parsed && parsed->lineage == lineage_) mine.push_back(p);
  }
  for (size_t i = 0; i + static_cast<size_t>(keep_) < mine.size(); ++i) {
    std::error_code ec;
    std::filesystem::remove(mine[i], ec);
  }
  return path;
}

}  // namespace bdl::io
