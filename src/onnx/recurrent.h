#pragma once

namespace bdl::onnx {

class Context;

// ONNX LSTM and GRU (forward direction, zero initial state, default
// activations) as bdl's batch-first LSTM and GRU, with their gates reordered.
void convert_lstm(Context& c);
void convert_gru(Context& c);

}  // namespace bdl::onnx
