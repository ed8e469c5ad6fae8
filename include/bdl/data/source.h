#pragma once

// Where training reads its samples from (issue 13): a Dataset held in memory,
// or data streamed from disk with memory that does not grow with it. Training
// and validation take a Source; each worker opens a BatchStream on its own
// share and reads batches from it, one epoch at a time.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "bdl/data/batcher.h"
#include "bdl/data/dataset.h"

namespace bdl::data {

// How a worker reads its share.
struct StreamOptions {
  int64_t batch_size = 128;
  // Drop the last, partial batch of an epoch (training) or keep it (evaluation).
  bool drop_last = true;
  // Shuffle every epoch with a stream derived from (seed, epoch); seed is the
  // worker's own. In memory: the whole share. Streamed: the order of the
  // worker's shards, then a bounded shuffle buffer over their records.
  bool shuffle = true;
  uint64_t seed = 1;
  // Streamed sources: records held in the shuffle buffer, batches decoded ahead
  // of the one training uses, and the threads that decode them.
  int64_t shuffle_buffer = 4096;
  int64_t prefetch_batches = 4;
  int decode_threads = 1;
};

// What a stream met that it did not train on: damaged records skipped under
// skip_bad_records, and where the first of them was.
// And how long the reader of the batches waited for them (time the input
// pipeline did not keep up).
struct StreamReport {
  int64_t skipped = 0;
  std::string first_skipped;
  double wait_seconds = 0;
};

// One worker's batches. start_epoch positions the stream at a batch of an
// epoch (a resumed run starts mid-way, in the same order as the uninterrupted
// one); next() returns the batches in order, each valid until the next call,
// and null after the epoch's last.
// Batches are assembled into buffers that are reused: no allocation per batch
// after the first ones.
class BatchStream {
 public:
  virtual ~BatchStream() = default;
  // This worker's samples in one epoch.
  virtual int64_t samples() const = 0;
  int64_t num_batches() const;
  // Starts epoch `epoch` at batch `first` of it; `batches` is how many the
  // epoch reads in all (every worker runs the same count: a share with more
  // batches than that leaves the rest out of the epoch).
  virtual void start_epoch(int64_t epoch, int64_t first, int64_t batches) = 0;
  virtual const MiniBatch* next() = 0;
  virtual StreamReport report() const { return {}; }

 protected:
  explicit BatchStream(StreamOptions options) : options_(options) {}
  StreamOptions options_;
};

// A source streamed from disk (record shards; image folders and tables come
// next): its description, and the streams workers open on it.
class StreamSource {
 public:
  virtual ~StreamSource() = default;
  virtual std::string name() const = 0;
  // Samples of all workers together.
  virtual int64_t size() const = 0;
  virtual Shape sample_shape() const = 0;
  // As stored: u8 (a byte an element, normalised as batches are made) or f32.
  virtual DType feature_dtype() const = 0;
  virtual TargetKind target_kind() const = 0;
  virtual Shape target_shape() const = 0;
  virtual int64_t num_classes() const = 0;
  virtual bool weighted() const = 0;
  virtual std::unique_ptr<BatchStream> open(int rank, int workers,
                                            const StreamOptions& options) const = 0;
  // Copies with class indices checked against [0, classes), or also turned
  // into one-hot rows, as they stream.
  virtual std::shared_ptr<const StreamSource> with_classes(int64_t classes, bool one_hot) const = 0;
  // Copies that normalise features as Dataset::map does, and that read only the
  // first n samples (in shard order).
  virtual std::shared_ptr<const StreamSource> mapped(Normalize transform) const = 0;
  virtual std::shared_ptr<const StreamSource> taken(int64_t n) const = 0;
  // A copy that is one worker's own share (a Spark partition spilled to this
  // machine's disk): open() reads all of it whatever the rank, and the job
  // counts every worker's share. Sources that cannot be one refuse by name.
  virtual std::shared_ptr<const StreamSource> as_worker_share() const;
  virtual bool is_worker_share() const { return false; }
};

class Source {
 public:
  Source() = default;
  Source(Dataset dataset);  // NOLINT(google-explicit-constructor): a Dataset is a Source
  explicit Source(std::shared_ptr<const StreamSource> stream);

  bool in_memory() const { return stream_ == nullptr; }
  // The Dataset of an in-memory source; an error naming the source otherwise.
  const Dataset& dataset() const;

  std::string name() const;
  // Samples: this worker's when the source is one worker's shard, else all.
  int64_t size() const;
  Shape sample_shape() const;
  DType feature_dtype() const;
  TargetKind target_kind() const;
  Shape target_shape() const;
  int64_t num_classes() const;
  bool is_worker_shard() const;
  // Class indices checked against [0, classes): at once in memory, as records
  // are read for a streamed source (an error names the record).
  Source with_classes(int64_t classes) const;
  // See Dataset: one-hot rows, normalised u8 features, the first n samples.
  Source one_hot(int64_t classes) const;
  Source map(Normalize transform) const;
  Source take(int64_t n) const;
  // This worker's own share already (see Dataset::as_worker_shard and
  // StreamSource::as_worker_share).
  Source as_worker_shard() const;

  // The batches worker `rank` of `workers` reads.
  std::unique_ptr<BatchStream> open(int rank, int workers, const StreamOptions& options) const;

 private:
  Dataset dataset_;
  std::shared_ptr<const StreamSource> stream_;
};

// A source's samples in memory, in storage order, as batches give them (f32
// features, normalised; targets as the source's): for uses that need all of
// them at once (predictions printed with their labels).
Dataset collect(const Source& source);

// Record shards written by `bdl convert` (or by Spark, TensorFlow, any writer
// of tf.train.Example records with the fields record_shards.h names), streamed:
// DIR/{train,test}/part-*.tfrecord. Worker r of W reads the shards s with
// s % W == r. A damaged record stops training with an error naming the shard
// and its byte offset; with skip_bad_records it is skipped and counted.
struct RecordShardOptions {
  bool skip_bad_records = false;
};
Source record_shards(const std::string& directory, Split split,
                     const RecordShardOptions& options = {});
// Record files matched by a glob pattern ("/data/day-*/part-*.tfrecord"),
// sorted, each a shard: worker r reads the files f with f % W == r.
Source record_files(const std::string& pattern, const RecordShardOptions& options = {});

}  // namespace bdl::data
