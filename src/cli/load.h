#pragma once

#include <string>

#include "bdl/io/model_file.h"

namespace bdl::cli {

// A model file for the commands that run or convert one: bdl's format, or an
// ONNX model (imported on the fly; the input shape comes from the ONNX file).
io::LoadedModel load_model_file(const std::string& path);

}  // namespace bdl::cli
