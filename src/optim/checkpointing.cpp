#include "optim/checkpointing.h"

#include <algorithm>
#include <tuple>

namespace bdl::optim {
namespace {

// Rank 0's values to every worker (the others pass zeros of the same length).
void share_from_root(ParameterSync& sync, std::span<double> values) {
  if (sync.rank() != 0) std::fill(values.begin(), values.end(), 0.0);
  sync.sum(values);
}

// The slice of each saved worker's method vector that overlaps [begin, end):
// the state of a method that had not stepped yet is empty and stays so.
std::vector<float> slice_method_vector(const std::vector<WorkerState>& workers, size_t k,
                                       int64_t begin, int64_t end) {
  const std::string& name = workers.front().method.vectors[k].first;
  const bool stepped = std::any_of(workers.begin(), workers.end(), [k](const WorkerState& s) {
    return k < s.method.vectors.size() && !s.method.vectors[k].second.empty();
  });
  std::vector<float> sliced;
  if (!stepped || end <= begin) return sliced;
  sliced.assign(static_cast<size_t>(end - begin), 0.f);
  for (const auto& s : workers) {
    BDL_CHECK(k < s.method.vectors.size() && s.method.vectors[k].first == name,
              "checkpoint: a worker has no '", name, "' optimizer state");
    const std::vector<float>& src = s.method.vectors[k].second;
    BDL_CHECK(static_cast<int64_t>(src.size()) == s.length, "checkpoint: '", name, "' holds ",
              src.size(), " values for a slice of ", s.length);
    const int64_t lo = std::max(begin, s.offset);
    const int64_t hi = std::min(end, s.offset + s.length);
    for (int64_t i = lo; i < hi; ++i) {
      sliced[static_cast<size_t>(i - begin)] = src[static_cast<size_t>(i - s.offset)];
    }
  }
  return sliced;
}

// Sets this worker's buffers and random streams from its part, when it has them.
void adopt(nn::Module& model, const WorkerState& mine) {
  if (!mine.buffers.empty()) set_buffer_values(model, mine.buffers);
  auto streams = model.random_streams();
  if (mine.random_streams.empty()) return;
  BDL_CHECK(mine.random_streams.size() == streams.size(),
            "checkpoint: ", mine.random_streams.size(), " random streams saved, the model has ",
            streams.size());
  for (size_t i = 0; i < streams.size(); ++i) streams[i]->set_state(mine.random_streams[i]);
}

}  // namespace

ResumePoint share_resume_point(ParameterSync& sync, const std::optional<TrainingState>& saved,
                               size_t schedule_size) {
  // Packed as doubles for one collective sum: iteration, epoch, next batch,
  // epochs completed, base rate, then the schedule's state.
  enum : size_t { kIteration, kEpoch, kNextBatch, kEpochsCompleted, kBaseRate, kSchedule };
  std::vector<double> packed(kSchedule + schedule_size, 0.0);
  if (sync.rank() == 0) {
    const TrainingState& s = *saved;
    BDL_CHECK(s.schedule.size() == schedule_size, "checkpoint: schedule state of ",
              s.schedule.size(), " values, this run's schedule has ", schedule_size);
    packed[kIteration] = static_cast<double>(s.iteration);
    packed[kEpoch] = static_cast<double>(s.epoch);
    packed[kNextBatch] = static_cast<double>(s.next_batch);
    packed[kEpochsCompleted] = static_cast<double>(s.epochs_completed);
    packed[kBaseRate] = s.base_lr;
    std::copy(s.schedule.begin(), s.schedule.end(), packed.begin() + kSchedule);
  }
  share_from_root(sync, packed);
  ResumePoint p;
  p.position.iteration = static_cast<int64_t>(packed[kIteration]);
  p.position.epoch = static_cast<int64_t>(packed[kEpoch]);
  p.position.epochs_completed = static_cast<int64_t>(packed[kEpochsCompleted]);
  p.next_batch = static_cast<int64_t>(packed[kNextBatch]);
  p.base_lr = packed[kBaseRate];
  p.schedule.assign(packed.begin() + kSchedule, packed.end());
  return p;
}

// Workers update their BatchNorm statistics from their own batches: averaging
// them gives every worker the same model (the statistics of the global batch,
// up to the variance of the means).
void average_buffers(nn::Module& model, ParameterSync& sync) {
  if (sync.size() == 1) return;
  auto buffers = model.buffers();
  std::vector<double> values;
  for (auto& b : buffers) {
    for (float v : b.value->span_f32()) values.push_back(v);
  }
  if (values.empty()) return;
  sync.sum(values);
  size_t k = 0;
  const double n = sync.size();
  for (auto& b : buffers) {
    for (float& v : b.value->span_f32()) v = static_cast<float>(values[k++] / n);
  }
}

std::vector<float> buffer_values(nn::Module& model) {
  std::vector<float> out;
  for (auto& b : model.buffers()) {
    const auto v = b.value->span_f32();
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

void set_buffer_values(nn::Module& model, std::span<const float> values) {
  auto buffers = model.buffers();
  size_t at = 0;
  for (auto& b : buffers) {
    auto v = b.value->span_f32();
    BDL_CHECK(at + v.size() <= values.size(), "checkpoint: buffers do not match the model");
    std::copy(values.begin() + static_cast<std::ptrdiff_t>(at),
              values.begin() + static_cast<std::ptrdiff_t>(at + v.size()), v.begin());
    at += v.size();
  }
  BDL_CHECK(at == values.size(), "checkpoint: buffers do not match the model");
}

// Every worker's state for a checkpoint, gathered on rank 0 (empty elsewhere).
std::vector<WorkerState> gather_worker_states(ParameterSync& sync, nn::Module& model,
                                              nn::FlatParameters& flat, const OptimMethod& method) {
  WorkerState mine;
  std::tie(mine.offset, mine.length) = sync.state_range(flat.numel());
  mine.method = method.state();
  for (Rng* r : model.random_streams()) mine.random_streams.push_back(r->state());
  mine.buffers = buffer_values(model);
  std::vector<WorkerState> all;
  for (const auto& bytes : sync.gather_bytes(encode(mine))) {
    all.push_back(decode_worker_state(bytes));
  }
  return all;
}

void restore_worker_states(ParameterSync& sync, nn::Module& model, nn::FlatParameters& flat,
                           OptimMethod& method, const std::optional<TrainingState>& saved) {
  WorkerState range;
  std::tie(range.offset, range.length) = sync.state_range(flat.numel());
  const auto ranges = sync.gather_bytes(encode(range));
  std::vector<std::string> parts;
  if (sync.rank() == 0) {
    const auto& workers = saved->workers;
    const bool same_workers = static_cast<int>(workers.size()) == sync.size();
    const std::vector<float> file_buffers = buffer_values(model);
    for (size_t w = 0; w < ranges.size(); ++w) {
      WorkerState part = decode_worker_state(ranges[w]);
      for (size_t k = 0; k < workers.front().method.vectors.size(); ++k) {
        part.method.vectors.emplace_back(
            workers.front().method.vectors[k].first,
            slice_method_vector(workers, k, part.offset, part.offset + part.length));
      }
      part.method.scalars = workers.front().method.scalars;
      // With other workers, each takes the statistics rank 0 read (their mean)
      // and keeps its fresh random streams.
      part.buffers = same_workers ? workers[w].buffers : file_buffers;
      if (same_workers) part.random_streams = workers[w].random_streams;
      parts.push_back(encode(part));
    }
  }
  WorkerState mine = decode_worker_state(sync.scatter_bytes(std::move(parts)));
  method.set_state(std::move(mine.method));
  adopt(model, mine);
}

}  // namespace bdl::optim
