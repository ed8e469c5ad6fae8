// The record-shard pipeline alone (no training): batches per second that
// data::record_shards delivers from Fashion-MNIST's training set written as 4
// shards, against the in-memory Batcher over the same images.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>

#include "bdl/data/record_shards.h"
#include "bdl/data/source.h"

namespace {

using namespace bdl;

const std::string& shard_dir() {
  static const std::string dir = [] {
    const std::string d = (std::filesystem::temp_directory_path() /
                           ("bdl_stream_bench_" + std::to_string(::getpid())))
                              .string();
    data::write_record_shards(data::mnist_like("fashion-mnist", data::Split::train), d,
                              data::Split::train, 4);
    std::atexit([] { std::filesystem::remove_all(shard_dir()); });
    return d;
  }();
  return dir;
}

void read_epochs(benchmark::State& state, const data::Source& source) {
  data::StreamOptions options;
  options.batch_size = 128;
  options.decode_threads = static_cast<int>(state.range(0));
  const auto stream = source.open(0, 1, options);
  int64_t epoch = 0, samples = 0;
  for (auto _ : state) {
    stream->start_epoch(++epoch, 0, stream->num_batches());
    while (const data::MiniBatch* b = stream->next()) {
      benchmark::DoNotOptimize(b->input.f32());
      samples += b->size();
    }
  }
  state.counters["samples/s"] =
      benchmark::Counter(static_cast<double>(samples), benchmark::Counter::kIsRate);
}

void BM_StreamShards(benchmark::State& state) {
  read_epochs(
      state,
      data::record_shards(shard_dir(), data::Split::train).map(data::kFashionMnistNormalize));
}
BENCHMARK(BM_StreamShards)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_BatchesFromMemory(benchmark::State& state) {
  read_epochs(
      state,
      data::mnist_like("fashion-mnist", data::Split::train).map(data::kFashionMnistNormalize));
}
BENCHMARK(BM_BatchesFromMemory)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
