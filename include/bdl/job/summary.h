#pragma once

// A model's layer table: what `bdl info --model` prints and Python's summary().
#include <cstdint>
#include <string>
#include <vector>

#include "bdl/core/tensor.h"
#include "bdl/nn/module.h"

namespace bdl::job {

struct LayerRow {
  std::string path = {};    // "features.conv1"
  std::string description;  // describe()
  Shape output = {};        // with a batch of one
  int64_t parameters = 0;
  double flops = 0;  // forward, multiply-add = 2; convolutions and products only
};

// One row per layer for an input of `input` (batch first). Sequential
// containers down to depth 2 are opened (a ResNet stage shows its blocks), and a
// model that is one Graph (an imported ONNX model) shows its nodes; other
// containers are one row.
std::vector<LayerRow> summary(nn::Module& model, const Shape& input);

// Trainable parameters, in elements.
int64_t parameter_count(nn::Module& model);

// The rows as a table, with the totals.
std::string format_summary(nn::Module& model, const Shape& input);

}  // namespace bdl::job
