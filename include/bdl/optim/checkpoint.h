#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "bdl/optim/optim_method.h"

namespace bdl::optim {

// What one worker holds that no other worker has: its optimizer state (with
// sharded sync, the state of its slice of the flat parameters only), its module
// buffers and the positions of its random streams (Dropout masks differ per
// worker). Weights are not among them: every sync leaves all workers with the
// same weights, bit for bit (fp16 on the wire included).
struct WorkerState {
  int64_t offset = 0;  // the slice of the flat parameters the state covers
  int64_t length = 0;
  MethodState method;
  // The worker's own module buffers (BatchNorm statistics come from its own
  // batches), all buffers one after the other.
  std::vector<float> buffers;
  std::vector<std::array<uint64_t, 4>> random_streams;
};

// Where training stands, besides the model's weights and buffers: enough to
// continue as if never stopped. The data order of an epoch is a function of the
// seed, the worker and the epoch, so the position in the data is (epoch,
// next_batch).
struct TrainingState {
  int64_t iteration = 0;         // iterations completed
  int64_t epoch = 0;             // the epoch to continue in
  int64_t next_batch = 0;        // the first batch of that epoch not yet trained on
  int64_t epochs_completed = 0;  // epochs finished
  uint64_t seed = 0;
  int64_t batch_size = 0;  // global
  double base_lr = 0;
  std::string method;  // the method's describe(), checked on resume
  std::vector<double> schedule;
  int64_t parameter_count = 0;       // elements of the flat parameter buffer
  std::vector<WorkerState> workers;  // rank-ordered
};

// Binary encoding of a WorkerState, to move it between workers (not a file format).
std::string encode(const WorkerState& state);
WorkerState decode_worker_state(const std::string& bytes);

}  // namespace bdl::optim
