#include "bdl/data/source.h"

#include <utility>

#include "bdl/core/error.h"

namespace bdl::data {
namespace {

// An in-memory share: the Batcher over the worker's partitions, in an order
// shuffled whole every epoch.
class MemoryStream final : public BatchStream {
 public:
  MemoryStream(Dataset share, const StreamOptions& options)
      : BatchStream(options),
        share_(std::move(share)),
        batcher_(share_, options.batch_size, options.drop_last) {
    for (const Partition& p : share_.partitions()) samples_ += p.size();
  }

  int64_t samples() const override { return samples_; }

  void start_epoch(int64_t epoch, int64_t first, int64_t batches) override {
    batcher_.set_order(epoch_order(share_, options_.seed, epoch, options_.shuffle));
    next_ = first;
    end_ = std::min(batches, batcher_.num_batches());
  }

  const MiniBatch* next() override { return next_ < end_ ? &batcher_.batch(next_++) : nullptr; }

 private:
  Dataset share_;
  Batcher batcher_;
  int64_t samples_ = 0;
  int64_t next_ = 0, end_ = 0;
};

}  // namespace

int64_t BatchStream::num_batches() const {
  const int64_t n = samples(), b = options_.batch_size;
  return options_.drop_last ? n / b : (n + b - 1) / b;
}

Source::Source(Dataset dataset) : dataset_(std::move(dataset)) {}

Source::Source(std::shared_ptr<const StreamSource> stream) : stream_(std::move(stream)) {
  BDL_CHECK(stream_ != nullptr, "Source: no stream");
}

const Dataset& Source::dataset() const {
  BDL_CHECK(in_memory(), stream_->name(),
            ": streamed from disk, not held in memory (this use needs a dataset in memory)");
  return dataset_;
}

std::string Source::name() const { return stream_ ? stream_->name() : dataset_.name(); }

int64_t Source::size() const { return stream_ ? stream_->size() : dataset_.size(); }

Shape Source::sample_shape() const {
  return stream_ ? stream_->sample_shape() : dataset_.sample_shape();
}

DType Source::feature_dtype() const {
  return stream_ ? stream_->feature_dtype() : dataset_.features().dtype();
}

TargetKind Source::target_kind() const {
  return stream_ ? stream_->target_kind() : dataset_.target_kind();
}

Shape Source::target_shape() const {
  return stream_ ? stream_->target_shape() : dataset_.target_shape();
}

int64_t Source::num_classes() const {
  return stream_ ? stream_->num_classes() : dataset_.num_classes();
}

bool Source::is_worker_shard() const {
  return stream_ ? stream_->is_worker_share() : dataset_.is_worker_shard();
}

Source Source::as_worker_shard() const {
  if (stream_) return Source(stream_->as_worker_share());
  return Source(dataset_.as_worker_shard());
}

std::shared_ptr<const StreamSource> StreamSource::as_worker_share() const {
  fail(name(), ": cannot be one worker's own share (only record shards and arrays can)");
}

Source Source::with_classes(int64_t classes) const {
  if (stream_) return Source(stream_->with_classes(classes, /*one_hot=*/false));
  dataset_.check_classes(classes);
  return *this;
}

Source Source::one_hot(int64_t classes) const {
  if (stream_) return Source(stream_->with_classes(classes, /*one_hot=*/true));
  return Source(dataset_.one_hot(classes));
}

Source Source::map(Normalize transform) const {
  if (stream_) return Source(stream_->mapped(transform));
  return Source(dataset_.map(transform));
}

Source Source::take(int64_t n) const {
  if (stream_) return Source(stream_->taken(n));
  return Source(dataset_.take(n));
}

std::unique_ptr<BatchStream> Source::open(int rank, int workers,
                                          const StreamOptions& options) const {
  BDL_CHECK(options.batch_size > 0, "batch size must be positive, got ", options.batch_size);
  if (stream_) return stream_->open(rank, workers, options);
  return std::make_unique<MemoryStream>(dataset_.shard(rank, workers), options);
}

Dataset collect(const Source& source) {
  if (source.in_memory()) return source.dataset();
  StreamOptions options;
  options.batch_size = 256;
  options.drop_last = false;
  options.shuffle = false;
  const auto stream = source.open(0, 1, options);
  stream->start_epoch(0, 0, stream->num_batches());
  const int64_t n = stream->samples();
  Shape shape = source.sample_shape();
  shape.insert(shape.begin(), n);
  Tensor features(shape);
  Shape target_shape = source.target_shape();
  target_shape.insert(target_shape.begin(), n);
  Tensor targets = Tensor::empty(
      target_shape, source.target_kind() == TargetKind::classes ? DType::i64 : DType::f32);
  Tensor weights;
  int64_t at = 0;
  while (const MiniBatch* batch = stream->next()) {
    const int64_t b = batch->size();
    features.narrow(0, at, b).copy_from(batch->input);
    targets.narrow(0, at, b).copy_from(batch->target);
    if (batch->weight.defined()) {
      if (!weights.defined()) weights = Tensor({n});
      weights.narrow(0, at, b).copy_from(batch->weight);
    }
    at += b;
  }
  Dataset d(features.narrow(0, 0, at), targets.narrow(0, 0, at), source.name());
  return weights.defined() ? d.with_weights(weights.narrow(0, 0, at)) : d;
}

}  // namespace bdl::data
