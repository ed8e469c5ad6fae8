#pragma once

// What the streamed sources (record shards, image folders) share: a ring of
// batch buffers ("slots") that background threads fill, sample by sample,
// while next() hands the finished ones out in order. Slot q holds batch b when
// b % slots == q; a slot handed out is given the batch that many slots ahead
// when next() is called again. The buffers keep their storage: no allocation
// per batch after the first ones.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <string>
#include <vector>

#include "bdl/data/source.h"

namespace bdl::data::detail {

class SlotStream : public BatchStream {
 protected:
  struct Slot {
    int64_t batch = -1;  // the batch it is being filled with
    int64_t filled = 0;  // samples written into it
    MiniBatch data;      // buffers that keep their storage (a partial batch is a shorter view)
  };

  // Slots for prefetch_batches + 1 batches of `sample` inputs and `target`
  // targets (of `target_dtype`), with a weight each when `weighted`.
  SlotStream(StreamOptions options, Shape sample, Shape target, DType target_dtype, bool weighted)
      : BatchStream(options), sample_(std::move(sample)), target_(std::move(target)) {
    Shape input = sample_;
    input.insert(input.begin(), options_.batch_size);
    Shape targets = target_;
    targets.insert(targets.begin(), options_.batch_size);
    slots_.resize(static_cast<size_t>(std::max<int64_t>(options_.prefetch_batches, 1) + 1));
    for (Slot& slot : slots_) {
      slot.data.input = Tensor(input);
      slot.data.target = Tensor::empty(targets, target_dtype);
      if (weighted) slot.data.weight = Tensor::empty({options_.batch_size}, DType::f32);
    }
  }

  // Before the threads of an epoch start: `end` samples from batch `first`.
  void reset(int64_t first, int64_t end) {
    end_k_ = end;
    next_ = first;
    previous_ = -1;
    error_ = nullptr;
    stopping_ = false;
    for (Slot& slot : slots_) {
      slot.batch = -1;
      slot.filled = 0;
    }
    for (int64_t b = first; b < first + static_cast<int64_t>(slots_.size()); ++b) {
      slot_of(b).batch = b;
    }
  }

 public:
  const MiniBatch* next() override {
    std::unique_lock lock(mutex_);
    const int64_t bs = options_.batch_size;
    if (previous_ >= 0) {
      // The batch returned last is free for the one that many slots ahead.
      Slot& done = slot_of(previous_);
      done.batch = previous_ + static_cast<int64_t>(slots_.size());
      done.filled = 0;
      previous_ = -1;
      changed_.notify_all();
    }
    const int64_t b = next_;
    const auto waited = std::chrono::steady_clock::now();
    changed_.wait(lock, [&] {
      return error_ || b * bs >= end_k_ ||
             (slot_of(b).batch == b && slot_of(b).filled == count_of(b));
    });
    wait_seconds_ +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - waited).count();
    if (error_) std::rethrow_exception(error_);
    if (b * bs >= end_k_) return nullptr;
    MiniBatch& batch = slot_of(b).data;
    const int64_t n = count_of(b);
    if (batch.input.size(0) != n) {  // a last, partial batch, or a full one after it
      Shape input = sample_;
      input.insert(input.begin(), n);
      batch.input.resize(input);
      Shape target = target_;
      target.insert(target.begin(), n);
      batch.target.resize(target, batch.target.dtype());
      if (batch.weight.defined()) batch.weight.resize({n});
    }
    previous_ = b;
    ++next_;
    return &batch;
  }

  StreamReport report() const override {
    std::lock_guard lock(mutex_);
    return {skipped_, first_skipped_, wait_seconds_};
  }

 protected:
  Slot& slot_of(int64_t b) { return slots_[static_cast<size_t>(b) % slots_.size()]; }
  int64_t count_of(int64_t b) const {
    return std::min(options_.batch_size, end_k_ - b * options_.batch_size);
  }

  // Runs a thread's work; its first failure stops the stream and is thrown
  // by next().
  template <typename F>
  void guarded(F f) {
    try {
      f();
    } catch (...) {
      std::lock_guard lock(mutex_);
      if (!error_) error_ = std::current_exception();
      stopping_ = true;
      changed_.notify_all();
    }
  }

  // Tells the threads to stop (they wait on changed_ for stopping_).
  void signal_stop() {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    changed_.notify_all();
  }

  // A sample skipped under skip_bad_records (call with mutex_ held).
  void count_skipped(const std::string& what) {
    if (skipped_++ == 0) first_skipped_ = what;
  }

  Shape sample_, target_;
  // Guarded by mutex_, shared by the threads and next().
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Slot> slots_;
  std::exception_ptr error_;
  bool stopping_ = false;
  int64_t end_k_ = 0;  // samples this epoch delivers
  int64_t skipped_ = 0;
  std::string first_skipped_;
  double wait_seconds_ = 0;
  int64_t next_ = 0, previous_ = -1;  // next(): the batch to return, the one held
};

}  // namespace bdl::data::detail
