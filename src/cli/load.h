#pragma once

#include <cstdint>
#include <string>

#include "bdl/io/model_file.h"

namespace bdl::cli {

// A model file for the commands that run or convert one: bdl's format, or an
// ONNX model (imported on the fly; the input shape comes from the ONNX file).
io::LoadedModel load_model_file(const std::string& path);

// Trainable parameters of a model, counted in elements (for `bdl info`, import, export).
int64_t parameter_count(nn::Module& m);

}  // namespace bdl::cli
