#include "bdl/dist/sync.h"

#include "bdl/core/error.h"

namespace bdl::dist {
namespace {

// The gradient is a mean over each worker's share; the sum over workers becomes
// the mean over the global batch.
void scale(std::span<float> values, float factor) {
  float* v = values.data();
  const auto n = static_cast<int64_t>(values.size());
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) v[i] *= factor;
}

}  // namespace

SyncStrategy parse_sync_strategy(const std::string& name) {
  if (name == "sharded") return SyncStrategy::sharded;
  if (name == "allreduce") return SyncStrategy::allreduce;
  if (name == "driver") return SyncStrategy::driver;
  fail("sync: '", name, "' is not one of sharded, allreduce, driver");
}

std::string sync_strategy_name(SyncStrategy strategy) {
  switch (strategy) {
    case SyncStrategy::sharded:
      return "sharded";
    case SyncStrategy::allreduce:
      return "allreduce";
    case SyncStrategy::driver:
      return "driver";
  }
  return "?";
}

ShardedSync::ShardedSync(Communicator& comm, WireFormat format)
    : CommunicatorSync(comm), format_(format) {}

std::string ShardedSync::describe() const {
  return "sharded sync (" + wire_format_name(format_) + " on the wire) over " + comm_.describe();
}

void ShardedSync::start(nn::FlatParameters& flat) {
  comm_.broadcast(flat.weights.span_f32(), 0);
  parameter_ = std::make_unique<AllReduceParameter>(comm_, flat.numel(), format_);
  own_before_.resize(static_cast<size_t>(parameter_->own_slice().length));
}

void ShardedSync::step(nn::FlatParameters& flat, optim::OptimMethod& method) {
  BDL_CHECK(parameter_ != nullptr, "ShardedSync: step before start");
  const auto grads = flat.grads.span_f32();
  const auto weights = flat.weights.span_f32();
  parameter_->reduce_scatter(grads);
  const Slice own = parameter_->own_slice();
  const auto own_grads =
      grads.subspan(static_cast<size_t>(own.offset), static_cast<size_t>(own.length));
  const auto own_weights =
      weights.subspan(static_cast<size_t>(own.offset), static_cast<size_t>(own.length));
  scale(own_grads, 1.f / static_cast<float>(comm_.size()));
  if (format_ != WireFormat::fp32)
    std::copy(own_weights.begin(), own_weights.end(), own_before_.begin());
  method.set_context({&flat.slots, own.offset,
                      [this](std::span<double> v) { comm_.allreduce(v, AllreduceOp::sum); }});
  method.step(own_weights, own_grads);
  parameter_->all_gather(weights, own_before_);
}

std::string AllreduceSync::describe() const {
  return "MPI_Allreduce sync over " + comm_.describe();
}

void AllreduceSync::start(nn::FlatParameters& flat) { comm_.broadcast(flat.weights.span_f32(), 0); }

void AllreduceSync::step(nn::FlatParameters& flat, optim::OptimMethod& method) {
  const auto grads = flat.grads.span_f32();
  comm_.allreduce_sum(grads);
  scale(grads, 1.f / static_cast<float>(comm_.size()));
  method.set_context({&flat.slots, 0, nullptr});
  method.step(flat.weights.span_f32(), grads);
}

std::string DriverSync::describe() const {
  return "driver-style sync (gather to rank 0, broadcast) over " + comm_.describe();
}

void DriverSync::start(nn::FlatParameters& flat) {
  comm_.broadcast(flat.weights.span_f32(), 0);
  if (comm_.rank() == 0) gathered_.resize(static_cast<size_t>(flat.numel() * comm_.size()));
}

void DriverSync::step(nn::FlatParameters& flat, optim::OptimMethod& method) {
  const auto grads = flat.grads.span_f32();
  comm_.gather(grads, gathered_, 0);
  if (comm_.rank() == 0) {
    const auto n = static_cast<int64_t>(grads.size());
    float* g = grads.data();
    for (int w = 1; w < comm_.size(); ++w) {
      const float* other = gathered_.data() + w * n;
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) g[i] += other[i];
    }
    scale(grads, 1.f / static_cast<float>(comm_.size()));
    method.set_context({&flat.slots, 0, nullptr});
    method.step(flat.weights.span_f32(), grads);
  }
  comm_.broadcast(flat.weights.span_f32(), 0);
}

std::unique_ptr<optim::ParameterSync> make_sync(SyncStrategy strategy, Communicator& comm,
                                                WireFormat format) {
  BDL_CHECK(format == WireFormat::fp32 || strategy == SyncStrategy::sharded, "compress ",
            wire_format_name(format), " needs the sharded sync");
  switch (strategy) {
    case SyncStrategy::sharded:
      return std::make_unique<ShardedSync>(comm, format);
    case SyncStrategy::allreduce:
      return std::make_unique<AllreduceSync>(comm);
    case SyncStrategy::driver:
      return std::make_unique<DriverSync>(comm);
  }
  return nullptr;
}

namespace {

constexpr int kCheckpointTag = 201;
constexpr size_t kChunk = size_t{1} << 28;

// Posts the transfers of one buffer in chunks MPI's int counts can hold.
template <typename Post>
void chunked(char* data, size_t bytes, Post&& post) {
  for (size_t at = 0; at < bytes; at += kChunk) post(data + at, std::min(kChunk, bytes - at));
}

}  // namespace

std::pair<int64_t, int64_t> ShardedSync::state_range(int64_t total) const {
  BDL_CHECK(parameter_ != nullptr, "ShardedSync: checkpoint before start");
  const Slice own = parameter_->own_slice();
  return {own.offset, own.length};
}

std::vector<std::string> CommunicatorSync::gather_bytes(std::string mine) {
  const int n = comm_.size();
  const int r = comm_.rank();
  std::vector<double> sizes(static_cast<size_t>(n), 0.0);
  sizes[static_cast<size_t>(r)] = static_cast<double>(mine.size());
  comm_.allreduce(sizes, AllreduceOp::sum);
  std::vector<std::string> out;
  if (r == 0) {
    out.resize(static_cast<size_t>(n));
    out[0] = std::move(mine);
    for (int w = 1; w < n; ++w) {
      auto& part = out[static_cast<size_t>(w)];
      part.resize(static_cast<size_t>(sizes[static_cast<size_t>(w)]));
      chunked(part.data(), part.size(),
              [&](char* p, size_t b) { comm_.irecv(p, b, w, kCheckpointTag); });
    }
  } else {
    chunked(mine.data(), mine.size(),
            [&](char* p, size_t b) { comm_.isend(p, b, 0, kCheckpointTag); });
  }
  comm_.wait_all("gathering checkpoint state");
  return out;
}

std::string CommunicatorSync::scatter_bytes(std::vector<std::string> parts) {
  const int n = comm_.size();
  const int r = comm_.rank();
  std::vector<double> sizes(static_cast<size_t>(n), 0.0);
  if (r == 0) {
    BDL_CHECK(parts.size() == static_cast<size_t>(n), "scatter_bytes: ", parts.size(),
              " parts for ", n, " workers");
    for (int w = 0; w < n; ++w)
      sizes[static_cast<size_t>(w)] = static_cast<double>(parts[w].size());
  }
  comm_.allreduce(sizes, AllreduceOp::sum);
  std::string mine;
  if (r == 0) {
    for (int w = 1; w < n; ++w) {
      auto& part = parts[static_cast<size_t>(w)];
      chunked(part.data(), part.size(),
              [&](char* p, size_t b) { comm_.isend(p, b, w, kCheckpointTag); });
    }
    mine = std::move(parts[0]);
  } else {
    mine.resize(static_cast<size_t>(sizes[static_cast<size_t>(r)]));
    chunked(mine.data(), mine.size(),
            [&](char* p, size_t b) { comm_.irecv(p, b, 0, kCheckpointTag); });
  }
  comm_.wait_all("distributing checkpoint state");
  return mine;
}

}  // namespace bdl::dist
