#pragma once

#include <cstdint>
#include <string>

#include "bdl/core/tensor.h"
#include "bdl/nn/module.h"

namespace bdl::onnx {

struct ExportOptions {
  // One sample's shape (without the batch dimension, which is exported as the
  // symbolic "N"): the exporter computes every layer's shape from it.
  Shape input_shape;
  std::string graph_name = "bdl";
};

// The opset export writes: supported by every current runtime and by bdl's
// importer.
constexpr int64_t kExportOpset = 13;

// Writes a bdl model (containers and layers as built by the zoo, by a model
// file or by import_model) as an ONNX model with its weights as initializers,
// in evaluation form (Dropout and BatchNorm as at inference). A layer without an
// ONNX form (TimeDistributed, Embedding) gets an error naming it. The file is
// written atomically.
void export_model(nn::Module& model, const std::string& path, const ExportOptions& options);
// The serialized ModelProto.
std::string export_model_bytes(nn::Module& model, const ExportOptions& options);

}  // namespace bdl::onnx
