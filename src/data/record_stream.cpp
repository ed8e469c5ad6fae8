// Record shards streamed into batches: a reader thread walks the worker's
// shards (in an order shuffled per epoch) through a bounded shuffle buffer,
// and decoding threads turn the records it picks into samples of batch
// buffers that are reused. Which record lands where depends only on (seed,
// epoch), never on the threads' timing.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

#include "bdl/core/error.h"
#include "bdl/core/random.h"
#include "bdl/data/record_file.h"
#include "bdl/data/record_shards.h"
#include "bdl/data/source.h"
#include "data/sample_record.h"
#include "data/slot_stream.h"

namespace bdl::data {
namespace {

// What every record of the source must hold, and how samples become batch
// rows.
struct Layout {
  Shape sample_shape;
  bool u8 = true;
  bool classes = true;
  int64_t values = 1;  // floats per target when they are values
  bool weighted = false;
  int64_t class_limit = 0;  // class indices checked below it when positive
  bool one_hot = false;
  Normalize normalize;  // identity unless mapped
  int64_t sample_elements() const { return shape_numel(sample_shape); }
  int64_t target_elements() const { return classes ? (one_hot ? class_limit : 1) : values; }
};

// A record read from a shard, with its place for error messages.
struct Item {
  std::string raw;
  detail::SampleRecord record;
  int64_t k = 0;  // its place in the epoch's stream of samples
};

class RecordStream;

constexpr size_t kChunk = 32;  // records handed from the reader to a decoder at once

class RecordSource final : public StreamSource, public std::enable_shared_from_this<RecordSource> {
 public:
  RecordSource(ShardsInfo info, std::string name, RecordShardOptions options)
      : info_(std::move(info)), name_(std::move(name)), options_(options) {
    layout_.sample_shape = info_.sample_shape;
    layout_.u8 = info_.features == "u8";
    layout_.classes = info_.targets == "classes";
    layout_.values = layout_.classes ? 1 : info_.classes;
    layout_.weighted = info_.weighted;
    counts_ = info_.shard_samples;
  }

  std::string name() const override { return name_; }
  int64_t size() const override {
    int64_t n = 0;
    for (int64_t c : counts_) n += c;
    return n;
  }
  Shape sample_shape() const override { return layout_.sample_shape; }
  DType feature_dtype() const override { return layout_.u8 ? DType::u8 : DType::f32; }
  TargetKind target_kind() const override {
    return layout_.classes && !layout_.one_hot ? TargetKind::classes : TargetKind::values;
  }
  Shape target_shape() const override {
    if (layout_.classes && !layout_.one_hot) return {};
    return {layout_.target_elements()};
  }
  int64_t num_classes() const override {
    return layout_.one_hot ? layout_.class_limit : info_.classes;
  }
  bool weighted() const override { return layout_.weighted; }

  std::unique_ptr<BatchStream> open(int rank, int workers,
                                    const StreamOptions& options) const override;

  std::shared_ptr<const StreamSource> with_classes(int64_t classes, bool one_hot) const override {
    BDL_CHECK(layout_.classes, name_, ": class indices expected, the records hold values");
    BDL_CHECK(classes > 0, name_, ": ", classes, " classes");
    auto copy = std::make_shared<RecordSource>(*this);
    copy->layout_.class_limit = classes;
    copy->layout_.one_hot = one_hot || layout_.one_hot;
    return copy;
  }
  std::shared_ptr<const StreamSource> mapped(Normalize transform) const override {
    BDL_CHECK(transform.std > 0, name_, ": normalize std must be positive");
    auto copy = std::make_shared<RecordSource>(*this);
    copy->layout_.normalize = transform;
    return copy;
  }
  std::shared_ptr<const StreamSource> taken(int64_t n) const override {
    BDL_CHECK(n >= 0, name_, ": take(", n, ")");
    auto copy = std::make_shared<RecordSource>(*this);
    for (int64_t& c : copy->counts_) {
      c = std::min(c, n);
      n -= c;
    }
    return copy;
  }

  const ShardsInfo& info() const { return info_; }
  const Layout& layout() const { return layout_; }
  std::shared_ptr<const StreamSource> as_worker_share() const override {
    auto copy = std::make_shared<RecordSource>(*this);
    copy->own_share_ = true;
    return copy;
  }
  bool is_worker_share() const override { return own_share_; }

  const std::vector<int64_t>& counts() const { return counts_; }
  const RecordShardOptions& options() const { return options_; }

 private:
  ShardsInfo info_;
  std::string name_;
  RecordShardOptions options_;
  Layout layout_;
  std::vector<int64_t> counts_;  // records read from each shard (take() cuts them)
  bool own_share_ = false;       // every shard is this worker's
};

class RecordStream final : public detail::SlotStream {
 public:
  RecordStream(std::shared_ptr<const RecordSource> source, std::vector<int64_t> shards,
               const StreamOptions& options)
      : SlotStream(options, source->layout().sample_shape, source->target_shape(),
                   source->target_kind() == TargetKind::classes ? DType::i64 : DType::f32,
                   source->layout().weighted),
        source_(std::move(source)),
        shards_(std::move(shards)) {
    for (int64_t s : shards_) samples_ += source_->counts()[static_cast<size_t>(s)];
  }
  ~RecordStream() override { stop(); }

  int64_t samples() const override { return samples_; }

  void start_epoch(int64_t epoch, int64_t first, int64_t batches) override {
    stop();
    const int64_t bs = options_.batch_size;
    batches = std::max<int64_t>(std::min(batches, num_batches()), 0);
    // Training (whole batches) pads a share that lost records to skipping; an
    // evaluation reads what there is.
    need_ = options_.drop_last ? batches * bs : std::min(batches * bs, samples_);
    first_ = std::min(first, batches);
    reset(first_, need_);
    queue_.clear();
    epoch_ = epoch;
    reader_ = std::thread([this] { guarded([this] { read_epoch(); }); });
    const int decoders = std::max(options_.decode_threads, 1);
    for (int t = 0; t < decoders; ++t) {
      decoders_.emplace_back([this] { guarded([this] { decode_loop(); }); });
    }
  }

 private:
  void stop() {
    signal_stop();
    if (reader_.joinable()) reader_.join();
    for (auto& t : decoders_) t.join();
    decoders_.clear();
    for (auto& chunk : queue_) {
      free_.insert(free_.end(), chunk.begin(), chunk.end());
      chunk.clear();
      chunks_.push_back(std::move(chunk));
    }
    queue_.clear();
    free_.insert(free_.end(), pending_.begin(), pending_.end());
    pending_.clear();
    previous_ = -1;
  }

  // The reader's items: taken from the ones the decoders gave back, many at
  // a time, or made (only until the pipeline holds as many as it needs).
  Item* take_item() {
    if (spare_.empty()) {
      std::lock_guard lock(mutex_);
      spare_.swap(free_);
    }
    if (spare_.empty()) {
      items_.push_back(std::make_unique<Item>());
      return items_.back().get();
    }
    Item* item = spare_.back();
    spare_.pop_back();
    return item;
  }
  void give_back(Item* item) { spare_.push_back(item); }

  // Hands the pending chunk of picked records to the decoders (waiting while
  // the queue is full); false when the stream is stopping.
  bool hand_over(size_t queue_limit) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return stopping_ || queued_ < queue_limit; });
    if (stopping_) return false;
    queued_ += pending_.size();
    queue_.push_back(std::move(pending_));
    pending_.clear();
    if (!chunks_.empty()) {
      pending_ = std::move(chunks_.back());
      chunks_.pop_back();
    }
    changed_.notify_all();
    return true;
  }

  // Counts a damaged record under skip_bad_records, or throws.
  void bad_record(const Error& e) {
    if (!source_->options().skip_bad_records) throw e;
    std::lock_guard lock(mutex_);
    count_skipped(e.what());
  }

  // Checks a record against the source's layout; the message names `where`.
  void check_record(const detail::SampleRecord& r, const std::string& where) const {
    const Layout& layout = source_->layout();
    BDL_CHECK(r.shape == layout.sample_shape &&
                  (r.features_kind == Feature::Kind::bytes) == layout.u8 &&
                  (r.label_kind == Feature::Kind::ints) == layout.classes,
              where, ": a sample of shape ", shape_str(r.shape), " (",
              r.features_kind == Feature::Kind::bytes ? "u8" : "f32", ", ",
              r.label_kind == Feature::Kind::ints ? "classes" : "values",
              ") among samples of shape ", shape_str(layout.sample_shape), " (",
              layout.u8 ? "u8" : "f32", ", ", layout.classes ? "classes" : "values", ")");
    BDL_CHECK(r.has_weight == layout.weighted, where, ": ", r.has_weight ? "a" : "no",
              " \"weight\" where the shards' description has ", layout.weighted ? "one" : "none");
    if (layout.classes) {
      const int64_t c = r.label_ints[0];
      const int64_t limit = layout.class_limit > 0 ? layout.class_limit : source_->info().classes;
      BDL_CHECK(c >= 0 && c < limit, where, ": \"label\" is the class ", c, ", outside [0, ", limit,
                ")");
    } else {
      BDL_CHECK(static_cast<int64_t>(r.label_floats.size()) == layout.values, where,
                ": \"label\" holds ", r.label_floats.size(), " values, the shards' description ",
                layout.values);
      for (float v : r.label_floats) {
        BDL_CHECK(std::isfinite(v), where, ": \"label\" holds ", v, "; bdl takes finite numbers");
      }
    }
    if (r.has_weight) {
      BDL_CHECK(std::isfinite(r.weight[0]) && r.weight[0] >= 0, where, ": \"weight\" is ",
                r.weight[0], "; weights must be finite and non-negative");
    }
    if (!layout.u8) {
      float probe = 0.f;
      for (float v : r.feature_floats) probe += v * 0.f;
      BDL_CHECK(std::isfinite(probe), where,
                ": \"features\" holds NaN or an infinity; bdl takes finite numbers only");
    }
  }

  // The next good record of this epoch's pass over the shards, or null after
  // the last shard. Damaged records are thrown or, under skip_bad_records,
  // counted and passed over.
  struct Cursor {
    std::vector<int64_t> order;  // shard indices, in this epoch's order
    size_t at = 0;               // into order
    std::unique_ptr<RecordReader> reader;
    int64_t read = 0;  // records taken from the open shard
    int64_t good = 0;  // good records over the whole pass
  };
  Item* read_record(Cursor& c, std::string& where) {
    const ShardsInfo& info = source_->info();
    Item* item = take_item();
    while (c.at < c.order.size()) {
      const auto shard = static_cast<size_t>(c.order[c.at]);
      const int64_t expected = source_->counts()[shard];
      if (!c.reader) {
        c.reader = std::make_unique<RecordReader>(info.files[shard]);
        c.read = 0;
      }
      const int64_t offset = c.reader->offset();
      bool got = false;
      if (c.read < expected) {
        try {
          got = c.reader->next(item->raw);
        } catch (const Error& e) {
          bad_record(e);
          if (!c.reader->skip_damaged()) c.read = expected;  // the rest cannot be framed
          continue;
        }
      }
      if (!got) {
        BDL_CHECK(c.read == expected || source_->options().skip_bad_records, info.files[shard],
                  ": ended after ", c.read, " records, its description says ",
                  info.shard_samples[shard]);
        c.reader.reset();
        ++c.at;
        continue;
      }
      ++c.read;
      where.assign(info.files[shard]);
      where += ": record at byte ";
      char digits[24];
      where.append(digits, std::to_chars(digits, digits + sizeof digits, offset).ptr);
      try {
        const auto* bytes = reinterpret_cast<const uint8_t*>(item->raw.data());
        detail::read_sample_record({bytes, item->raw.size()}, item->record, where);
        check_record(item->record, where);
      } catch (const Error& e) {
        bad_record(e);
        continue;
      }
      ++c.good;
      return item;
    }
    give_back(item);
    return nullptr;
  }

  // The reader thread: this epoch's records in order through the shuffle
  // buffer, each picked record handed to the decoders with its place.
  void read_epoch() {
    Rng rng(Rng::derive(options_.seed, static_cast<uint64_t>(epoch_)));
    Cursor cursor;
    cursor.order = shards_;
    if (options_.shuffle) {
      for (size_t i = cursor.order.size(); i > 1; --i) {
        std::swap(cursor.order[i - 1], cursor.order[rng.below(i)]);
      }
    }
    // The buffer holds at most shuffle_buffer records and about 256 MiB of them.
    const ShardsInfo& info = source_->info();
    const int64_t record_bytes =
        std::max<int64_t>(info.bytes / std::max<int64_t>(info.samples, 1), 1);
    const int64_t by_memory = std::max<int64_t>((int64_t{256} << 20) / record_bytes, 1);
    const size_t capacity =
        options_.shuffle
            ? static_cast<size_t>(std::clamp<int64_t>(options_.shuffle_buffer, 1, by_memory))
            : 1;
    std::vector<Item*> buffer;
    buffer.reserve(capacity);
    std::string where;
    const int64_t first_k = first_ * options_.batch_size;
    const size_t queue_limit = static_cast<size_t>(options_.batch_size) * 2;
    bool exhausted = false;
    for (int64_t k = 0; k < need_; ++k) {
      // Records are read only while the epoch still needs them: the tail that
      // a shorter epoch leaves out is not read at all.
      while (!exhausted && buffer.size() < capacity &&
             k + static_cast<int64_t>(buffer.size()) < need_) {
        Item* item = read_record(cursor, where);
        if (item == nullptr) {
          // A pass that found fewer records than its shards counted (records
          // skipped) starts over, so that every worker runs the same
          // iterations; an evaluation just ends.
          if (options_.drop_last && cursor.good > 0) {
            cursor.at = 0;
            continue;
          }
          exhausted = true;
          break;
        }
        buffer.push_back(item);
      }
      if (buffer.empty()) {  // the records ran out (an evaluation that skipped some)
        BDL_CHECK(!options_.drop_last, name_of_share(), ": no readable records");
        if (!pending_.empty() && !hand_over(queue_limit)) return;
        std::lock_guard lock(mutex_);
        end_k_ = k;
        changed_.notify_all();
        return;
      }
      const size_t pick = options_.shuffle ? static_cast<size_t>(rng.below(buffer.size())) : 0;
      Item* item = buffer[pick];
      if (options_.shuffle) {
        buffer[pick] = buffer.back();
        buffer.pop_back();
      } else {
        buffer.erase(buffer.begin());
      }
      if (k < first_k) {  // before a resumed run's position: read, not decoded
        give_back(item);
        continue;
      }
      item->k = k;
      pending_.push_back(item);
      // Chunks of consecutive samples, never across batches: one hand-over
      // (one lock, one wake-up) for many records.
      const bool batch_ends = (k + 1) % options_.batch_size == 0 || k + 1 == need_;
      if ((batch_ends || pending_.size() >= kChunk) && !hand_over(queue_limit)) {
        for (Item* left : buffer) give_back(left);
        return;
      }
    }
    for (Item* left : buffer) give_back(left);
  }

  std::string name_of_share() const { return source_->name(); }

  void decode_loop() {
    const int64_t bs = options_.batch_size;
    std::vector<Item*> chunk;
    for (;;) {
      Slot* slot = nullptr;
      int64_t b = 0;
      {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (stopping_) return;
        chunk = std::move(queue_.front());
        queue_.pop_front();
        queued_ -= chunk.size();
        changed_.notify_all();  // room in the queue for the reader
        b = chunk.front()->k / bs;
        slot = &slot_of(b);
        changed_.wait(lock, [&] { return stopping_ || slot->batch == b; });
        if (stopping_) {
          free_.insert(free_.end(), chunk.begin(), chunk.end());
          return;
        }
      }
      for (const Item* item : chunk) decode(*item, *slot);
      std::lock_guard lock(mutex_);
      free_.insert(free_.end(), chunk.begin(), chunk.end());
      slot->filled += static_cast<int64_t>(chunk.size());
      chunk.clear();
      chunks_.push_back(std::move(chunk));
      if (slot->filled == count_of(b)) changed_.notify_all();
    }
  }

  // One record into its row of the slot's batch.
  void decode(const Item& item, Slot& slot) const {
    const Layout& layout = source_->layout();
    const int64_t i = item.k % options_.batch_size;
    const int64_t per_sample = layout.sample_elements();
    const int64_t per_target = layout.target_elements();
    const float inv_std = 1.f / layout.normalize.std;
    const float mean = layout.normalize.mean;
    const detail::SampleRecord& r = item.record;
    float* dst = slot.data.input.f32() + i * per_sample;
    if (layout.u8) {
      const auto* src = reinterpret_cast<const uint8_t*>(r.feature_bytes.data());
      const float scale = inv_std / 255.f, shift = -mean * inv_std;
#pragma omp simd
      for (int64_t j = 0; j < per_sample; ++j) dst[j] = static_cast<float>(src[j]) * scale + shift;
    } else {
      const float* src = r.feature_floats.data();
#pragma omp simd
      for (int64_t j = 0; j < per_sample; ++j) dst[j] = (src[j] - mean) * inv_std;
    }
    if (layout.classes && !layout.one_hot) {
      slot.data.target.data<int64_t>()[i] = r.label_ints[0];
    } else if (layout.classes) {
      float* row = slot.data.target.f32() + i * per_target;
      std::fill(row, row + per_target, 0.f);
      row[r.label_ints[0]] = 1.f;
    } else {
      std::copy(r.label_floats.begin(), r.label_floats.end(),
                slot.data.target.f32() + i * per_target);
    }
    if (layout.weighted) slot.data.weight.f32()[i] = r.weight[0];
  }

  std::shared_ptr<const RecordSource> source_;
  std::vector<int64_t> shards_;  // this worker's
  int64_t samples_ = 0;

  // Guarded by mutex_, shared by the reader, the decoders and next().
  std::deque<std::vector<Item*>> queue_;    // chunks of picked records, in stream order
  size_t queued_ = 0;                       // records in the queue
  std::vector<std::vector<Item*>> chunks_;  // emptied chunks, to reuse
  std::vector<Item*> free_;                 // items the decoders are done with
  // The reader's own.
  std::vector<std::unique_ptr<Item>> items_;
  std::vector<Item*> spare_;
  std::vector<Item*> pending_;

  // The epoch in progress; set before the threads start.
  int64_t epoch_ = 0, need_ = 0, first_ = 0;
  std::thread reader_;
  std::vector<std::thread> decoders_;
};

std::unique_ptr<BatchStream> RecordSource::open(int rank, int workers,
                                                const StreamOptions& options) const {
  BDL_CHECK(workers >= 1 && rank >= 0 && rank < workers, name_, ": worker ", rank, " of ", workers);
  if (own_share_) rank = 0, workers = 1;
  // Training needs a share on every worker; an evaluation may leave a worker
  // without one.
  BDL_CHECK(info_.shards >= workers || !options.drop_last, name_, ": ", info_.shards,
            " shards cannot feed ", workers,
            " workers (each reads whole shards: write at least as many shards as workers)");
  std::vector<int64_t> mine;
  for (int64_t s = rank; s < info_.shards; s += workers) {
    BDL_CHECK(info_.present[static_cast<size_t>(s)] || counts_[static_cast<size_t>(s)] == 0,
              info_.files[static_cast<size_t>(s)], ": not on this machine; worker ", rank, " of ",
              workers, " reads shards ", rank, ", ", rank + workers, ", ... of ", info_.shards);
    mine.push_back(s);
  }
  return std::make_unique<RecordStream>(shared_from_this(), std::move(mine), options);
}

}  // namespace

Source record_shards(const std::string& directory, Split split, const RecordShardOptions& options) {
  ShardsInfo info = describe_record_shards(directory, split);
  BDL_CHECK(info.samples > 0, directory, (split == Split::train ? "/train" : "/test"), ": its ",
            info.shards, " shards hold no records");
  const std::string name =
      directory + (split == Split::train ? "/train" : "/test") + " (record shards)";
  return Source(std::make_shared<RecordSource>(std::move(info), name, options));
}

Source record_files(const std::string& pattern, const RecordShardOptions& options) {
  ShardsInfo info = describe_record_files(glob_record_files(pattern));
  BDL_CHECK(info.samples > 0, pattern, ": its ", info.shards, " files hold no records");
  return Source(
      std::make_shared<RecordSource>(std::move(info), pattern + " (record files)", options));
}

}  // namespace bdl::data
