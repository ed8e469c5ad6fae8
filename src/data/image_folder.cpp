// Image folders streamed: decoding threads claim the epoch's samples in order,
// each reading its file, decoding only what the transform needs and writing
// the sample into its row of a reused batch buffer. Which file and which
// random draws land in which row depends only on (seed, epoch, place), never
// on the threads' timing.
#include "bdl/data/image_folder.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>
#include <utility>

#include "bdl/core/error.h"
#include "bdl/core/random.h"
#include "bdl/data/record_shards.h"
#include "data/slot_stream.h"

namespace bdl::data {

namespace fs = std::filesystem;

namespace {

bool hidden(const fs::path& p) { return p.filename().string().starts_with("."); }

bool image_extension(const fs::path& p) {
  std::string ext = p.extension().string();
  for (char& ch : ext) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png";
}

std::vector<fs::path> class_folders(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (!hidden(e.path()) && e.is_directory(ec)) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Whether `dir` has a class folder holding an image (looking at a few entries
// of each only).
bool holds_classes(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return false;
  for (const fs::path& c : class_folders(dir)) {
    int looked = 0;
    for (const auto& e : fs::recursive_directory_iterator(c, ec)) {
      if (e.is_regular_file(ec) && image_extension(e.path())) return true;
      if (++looked > 64) break;
    }
  }
  return false;
}

}  // namespace

bool is_image_folder(const std::string& directory) {
  return holds_classes(fs::path(directory) / "train") || holds_classes(directory);
}

std::optional<std::string> image_split_directory(const std::string& directory, Split split) {
  const fs::path root(directory);
  std::error_code ec;
  if (!fs::is_directory(root / "train", ec)) {
    if (split == Split::train) return directory;
    return std::nullopt;
  }
  if (split == Split::train) return (root / "train").string();
  for (const char* name : {"test", "val"}) {
    if (fs::is_directory(root / name, ec)) return (root / name).string();
  }
  return std::nullopt;
}

ImageFolderInfo describe_image_folder(const std::string& directory, Split split,
                                      const std::vector<std::string>* classes) {
  const auto dir = image_split_directory(directory, split);
  BDL_CHECK(dir.has_value(), directory, ": no test/ or val/ folder beside train/");
  ImageFolderInfo info;
  info.directory = *dir;
  std::error_code ec;
  BDL_CHECK(fs::is_directory(*dir, ec), *dir, ": not a directory");
  const std::vector<fs::path> folders = class_folders(*dir);
  BDL_CHECK(!folders.empty(), *dir,
            ": no class folders (an image folder holds one sub-folder of images per class)");
  if (classes != nullptr) info.classes = *classes;
  for (const fs::path& folder : folders) {
    const std::string name = folder.filename().string();
    int64_t label = 0;
    if (classes != nullptr) {
      const auto at = std::find(classes->begin(), classes->end(), name);
      BDL_CHECK(at != classes->end(), folder.string(),
                ": a class the training folder does not have (", classes->size(),
                " classes: ", classes->empty() ? std::string() : classes->front(), " ... ",
                classes->empty() ? std::string() : classes->back(), ")");
      label = at - classes->begin();
    } else {
      label = static_cast<int64_t>(info.classes.size());
      info.classes.push_back(name);
    }
    std::vector<fs::path> files;
    for (auto it = fs::recursive_directory_iterator(folder, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      const fs::path& p = it->path();
      if (hidden(p)) {
        if (it->is_directory(ec)) it.disable_recursion_pending();
        continue;
      }
      if (!it->is_regular_file(ec)) continue;
      if (image_extension(p)) {
        files.push_back(p);
      } else if (info.ignored++ == 0) {
        info.first_ignored = p.string();
      }
    }
    BDL_CHECK(!ec, folder.string(), ": cannot be listed: ", ec.message());
    std::sort(files.begin(), files.end());
    for (const fs::path& p : files) {
      info.files.push_back(p.string());
      info.labels.push_back(label);
      info.bytes += static_cast<int64_t>(fs::file_size(p, ec));
    }
  }
  info.class_counts.assign(info.classes.size(), 0);
  for (int64_t l : info.labels) ++info.class_counts[static_cast<size_t>(l)];
  BDL_CHECK(!info.files.empty(), *dir, ": its ", folders.size(),
            " class folders hold no .jpg, .jpeg or .png files");
  return info;
}

namespace {

class ImageStream;

class ImageFolderSource final : public StreamSource,
                                public std::enable_shared_from_this<ImageFolderSource> {
 public:
  ImageFolderSource(ImageFolderInfo info, ImageFolderOptions options)
      : info_(std::move(info)), options_(options) {
    const ImageTransform& t = options_.transform;
    BDL_CHECK(t.height > 0 && t.width > 0 && (t.channels == 1 || t.channels == 3), info_.directory,
              ": samples of ", t.channels, "x", t.height, "x", t.width);
    for (size_t i = 0; i < info_.files.size(); ++i) chosen_.push_back(static_cast<int64_t>(i));
  }

  std::string name() const override { return info_.directory + " (image folder)"; }
  int64_t size() const override { return static_cast<int64_t>(chosen_.size()); }
  Shape sample_shape() const override {
    const ImageTransform& t = options_.transform;
    return {t.channels, t.height, t.width};
  }
  DType feature_dtype() const override { return DType::f32; }
  TargetKind target_kind() const override {
    return one_hot_ ? TargetKind::values : TargetKind::classes;
  }
  Shape target_shape() const override { return one_hot_ ? Shape{classes()} : Shape{}; }
  int64_t num_classes() const override { return classes(); }
  bool weighted() const override { return false; }

  std::unique_ptr<BatchStream> open(int rank, int workers,
                                    const StreamOptions& options) const override;

  std::shared_ptr<const StreamSource> with_classes(int64_t classes, bool one_hot) const override {
    const auto have = static_cast<int64_t>(info_.classes.size());
    BDL_CHECK(classes >= have, info_.directory, ": ", have, " class folders, the model has ",
              classes, " outputs");
    auto copy = std::make_shared<ImageFolderSource>(*this);
    copy->limit_ = classes;
    copy->one_hot_ = one_hot || one_hot_;
    return copy;
  }
  std::shared_ptr<const StreamSource> mapped(Normalize) const override {
    throw Error(name() +
                ": images are normalised by their transform's per-channel mean and deviation");
  }
  // n files spread evenly over the sorted list (so over the classes).
  std::shared_ptr<const StreamSource> taken(int64_t n) const override {
    BDL_CHECK(n >= 0, name(), ": take(", n, ")");
    auto copy = std::make_shared<ImageFolderSource>(*this);
    const auto all = static_cast<int64_t>(chosen_.size());
    if (n >= all) return copy;
    copy->chosen_.clear();
    for (int64_t j = 0; j < n; ++j)
      copy->chosen_.push_back(chosen_[static_cast<size_t>(j * all / n)]);
    return copy;
  }

  int64_t classes() const { return std::max(limit_, static_cast<int64_t>(info_.classes.size())); }
  bool one_hot() const { return one_hot_; }
  const ImageFolderInfo& info() const { return info_; }
  const ImageFolderOptions& options() const { return options_; }
  const std::vector<int64_t>& chosen() const { return chosen_; }

 private:
  ImageFolderInfo info_;
  ImageFolderOptions options_;
  std::vector<int64_t> chosen_;  // indices into info_.files
  int64_t limit_ = 0;
  bool one_hot_ = false;
};

class ImageStream final : public detail::SlotStream {
 public:
  ImageStream(std::shared_ptr<const ImageFolderSource> source, std::vector<int64_t> files,
              const StreamOptions& options)
      : SlotStream(options, source->sample_shape(), source->target_shape(),
                   source->one_hot() ? DType::f32 : DType::i64, false),
        source_(std::move(source)),
        files_(std::move(files)) {
    const int threads = std::max({options_.decode_threads, source_->options().decode_threads, 1});
    for (int t = 0; t < threads; ++t) {
      workers_.push_back(std::make_unique<Worker>(source_->options().transform));
    }
  }
  ~ImageStream() override { stop(); }

  int64_t samples() const override { return static_cast<int64_t>(files_.size()); }

  void start_epoch(int64_t epoch, int64_t first, int64_t batches) override {
    stop();
    const int64_t bs = options_.batch_size;
    batches = std::max<int64_t>(std::min(batches, num_batches()), 0);
    const int64_t first_batch = std::min(first, batches);
    reset(first_batch, options_.drop_last ? batches * bs : std::min(batches * bs, samples()));
    claim_ = first_batch * bs;
    order_ = files_;
    if (options_.shuffle) {
      Rng rng(Rng::derive(options_.seed, static_cast<uint64_t>(epoch)));
      for (size_t i = order_.size(); i > 1; --i) std::swap(order_[i - 1], order_[rng.below(i)]);
    }
    // The draws of the transforms: a stream of their own per epoch.
    draws_seed_ =
        Rng::derive(Rng::derive(options_.seed, 0x1AA6E5ULL), static_cast<uint64_t>(epoch));
    for (auto& w : workers_) {
      threads_.emplace_back([this, worker = w.get()] { guarded([&] { decode_loop(*worker); }); });
    }
  }

 private:
  // A decoding thread's own: its transform (decoder and scratch) and file buffer.
  struct Worker {
    explicit Worker(const ImageTransform& t) : transformer(t) {}
    ImageTransformer transformer;
    std::vector<uint8_t> bytes;
  };

  void stop() {
    signal_stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
    previous_ = -1;
  }

  void decode_loop(Worker& worker) {
    // Decoding yields to training: its threads run 10 steps nicer, so that
    // on a machine whose cores all train they take the time training leaves
    // (as they mostly work ahead, training rarely waits; the report's
    // input_wait_seconds says when it did).
    errno = 0;
    const int nice = getpriority(PRIO_PROCESS, 0);
    if (errno == 0) {
      setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), std::min(nice + 10, 19));
    }
    const int64_t bs = options_.batch_size;
    for (;;) {
      int64_t k = 0;
      Slot* slot = nullptr;
      {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] {
          return stopping_ || claim_ >= end_k_ || slot_of(claim_ / bs).batch == claim_ / bs;
        });
        if (stopping_ || claim_ >= end_k_) return;
        k = claim_++;
        slot = &slot_of(k / bs);
      }
      make_sample(worker, k, *slot);
      std::lock_guard lock(mutex_);
      if (++slot->filled == count_of(k / bs)) changed_.notify_all();
    }
  }

  // Sample k of the epoch into its row: the file at its place in the order,
  // or under skip_bad_records the next one that decodes.
  void make_sample(Worker& worker, int64_t k, Slot& slot) {
    const ImageFolderInfo& info = source_->info();
    const ImageTransform& t = source_->options().transform;
    const int64_t row = k % options_.batch_size;
    float* out = slot.data.input.f32() + row * t.channels * t.height * t.width;
    const uint64_t seed = Rng::derive(draws_seed_, static_cast<uint64_t>(k));
    const auto n = static_cast<int64_t>(order_.size());
    for (int64_t tries = 0; tries < n; ++tries) {
      const auto file = static_cast<size_t>(order_[static_cast<size_t>((k + tries) % n)]);
      const std::string& path = info.files[file];
      try {
        read_file_bytes(path, worker.bytes);
        worker.transformer.apply(worker.bytes, path, seed, out);
      } catch (const Error& e) {
        if (!source_->options().skip_bad_records) throw;
        std::lock_guard lock(mutex_);
        if (bad_.insert(file).second) count_skipped(e.what());
        continue;
      }
      const int64_t label = info.labels[file];
      if (source_->one_hot()) {
        float* target = slot.data.target.f32() + row * source_->classes();
        std::fill(target, target + source_->classes(), 0.f);
        target[label] = 1.f;
      } else {
        slot.data.target.data<int64_t>()[row] = label;
      }
      return;
    }
    std::lock_guard lock(mutex_);
    throw Error(source_->name() + ": none of this worker's " + std::to_string(n) +
                " images decodes (the first failure: " + first_skipped_ + ")");
  }

  std::shared_ptr<const ImageFolderSource> source_;
  std::vector<int64_t> files_;  // this worker's, indices into the listing
  std::vector<std::unique_ptr<Worker>> workers_;

  // Guarded by mutex_.
  int64_t claim_ = 0;     // the next sample a thread takes
  std::set<size_t> bad_;  // files that did not decode (skipped_ counts them)

  std::vector<int64_t> order_;
  uint64_t draws_seed_ = 0;
  std::vector<std::thread> threads_;
};

std::unique_ptr<BatchStream> ImageFolderSource::open(int rank, int workers,
                                                     const StreamOptions& options) const {
  BDL_CHECK(workers >= 1 && rank >= 0 && rank < workers, name(), ": worker ", rank, " of ",
            workers);
  std::vector<int64_t> mine;
  for (size_t i = static_cast<size_t>(rank); i < chosen_.size();
       i += static_cast<size_t>(workers)) {
    mine.push_back(chosen_[i]);
  }
  return std::make_unique<ImageStream>(shared_from_this(), std::move(mine), options);
}

}  // namespace

void write_image_shards(const ImageFolderInfo& info, int64_t height, int64_t width, int channels,
                        const std::string& directory, Split split, int64_t shards) {
  ImageTransform t = image_transform("none", height, width, channels);
  t.center_fraction = 1.0;
  ShardsInfo description;
  description.sample_shape = {channels, height, width};
  description.features = "u8";
  description.targets = "classes";
  description.classes = static_cast<int64_t>(info.classes.size());
  ImageDecoder decoder;
  std::vector<uint8_t> bytes;
  std::vector<float> planes(static_cast<size_t>(channels * height * width)), work;
  std::string pixels(planes.size(), '\0');
  // A fixed shuffle, so that every shard holds every class.
  std::vector<size_t> order(info.files.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  Rng rng(1);
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
  write_record_shards(
      static_cast<int64_t>(info.files.size()), description,
      [&](int64_t i, Example& e) {
        const size_t file = order[static_cast<size_t>(i)];
        const std::string& path = info.files[file];
        read_file_bytes(path, bytes);
        const Region region = center_region(t, decoder.size(bytes, path));
        resample(decoder.decode(bytes, path, channels, region, {width, height}), height, width,
                 false, planes.data(), work);
        for (size_t k = 0; k < planes.size(); ++k) {
          pixels[k] = static_cast<char>(std::clamp(std::lround(planes[k]), 0L, 255L));
        }
        e["features"] = Feature::of_bytes(pixels);
        e["shape"] = Feature::of_ints({channels, height, width});
        e["label"] = Feature::of_ints({info.labels[file]});
      },
      directory, split, shards);
}

void write_image_folder(const Tensor& images, const Tensor& labels,
                        const std::vector<std::string>& classes, const std::string& directory,
                        const ImageWriteOptions& options) {
  const Shape& shape = images.shape();
  BDL_CHECK(images.dtype() == DType::u8 &&
                (shape.size() == 3 || (shape.size() == 4 && (shape[3] == 1 || shape[3] == 3))),
            "images: u8 of N x H x W or N x H x W x C (C 1 or 3), got ", dtype_name(images.dtype()),
            " ", shape_str(shape));
  BDL_CHECK(labels.dtype() == DType::i64 && labels.shape() == Shape{shape[0]}, "labels: i64 of [",
            shape[0], "], got ", dtype_name(labels.dtype()), " ", shape_str(labels.shape()));
  BDL_CHECK(options.format == "png" || options.format == "jpeg", "format: png or jpeg, got ",
            options.format);
  const int64_t n = shape[0], h = shape[1], w = shape[2];
  const int channels = shape.size() == 4 ? static_cast<int>(shape[3]) : 1;
  const bool resize = options.out_height > 0 && options.out_width > 0;
  const int64_t oh = resize ? options.out_height : h, ow = resize ? options.out_width : w;
  const int64_t* y = labels.data<int64_t>();
  std::vector<std::string> names = classes;
  int64_t most = 0;
  for (int64_t i = 0; i < n; ++i) {
    BDL_CHECK(y[i] >= 0 && (classes.empty() || y[i] < static_cast<int64_t>(classes.size())),
              "labels[", i, "]: class ", y[i], " of ", classes.size(), " named classes");
    most = std::max(most, y[i]);
  }
  if (names.empty()) {
    for (int64_t c = 0; c <= most; ++c) names.push_back(std::to_string(c));
  }
  for (const std::string& c : names) fs::create_directories(fs::path(directory) / c);
  const std::string ext = options.format == "png" ? ".png" : ".jpg";
  std::exception_ptr failed;
  std::mutex failed_mutex;
  auto write_some = [&](int64_t begin, int64_t step) {
    std::vector<uint8_t> pixels(static_cast<size_t>(oh * ow * channels));
    std::vector<float> planes(static_cast<size_t>(oh * ow * channels)), work;
    try {
      for (int64_t i = begin; i < n; i += step) {
        const uint8_t* src = images.data<uint8_t>() + i * h * w * channels;
        if (resize) {
          ImageView view{src, w, h, channels,
                         Region{0, 0, static_cast<double>(w), static_cast<double>(h)}};
          resample(view, oh, ow, false, planes.data(), work);
          for (int64_t p = 0; p < oh * ow; ++p) {
            for (int c = 0; c < channels; ++c) {
              const float v = planes[static_cast<size_t>(c * oh * ow + p)];
              pixels[static_cast<size_t>(p * channels + c)] =
                  static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L));
            }
          }
          src = pixels.data();
        }
        char number[24];
        std::snprintf(number, sizeof number, "%06lld", static_cast<long long>(i));
        const std::string path =
            (fs::path(directory) / names[static_cast<size_t>(y[i])] / (number + ext)).string();
        if (options.format == "png") {
          write_png(path, src, ow, oh, channels);
        } else {
          write_jpeg(path, src, ow, oh, channels, options.quality);
        }
      }
    } catch (...) {
      std::lock_guard lock(failed_mutex);
      if (!failed) failed = std::current_exception();
    }
  };
  const int threads = std::max(options.threads, 1);
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(write_some, t, threads);
  write_some(0, threads);
  for (auto& t : pool) t.join();
  if (failed) std::rethrow_exception(failed);
}

Source image_folder(ImageFolderInfo info, const ImageFolderOptions& options) {
  return Source(std::make_shared<ImageFolderSource>(std::move(info), options));
}

Source image_folder(const std::string& directory, Split split, const ImageFolderOptions& options,
                    const std::vector<std::string>* classes) {
  return image_folder(describe_image_folder(directory, split, classes), options);
}

}  // namespace bdl::data
