#pragma once

#include <string>

namespace bdl::kernels {

// The kernel library and version bdl runs on, e.g. "oneDNN 2.6.3".
std::string backend_version();
// The instruction set oneDNN dispatches to on this CPU, e.g. "avx512_core_bf16".
std::string backend_isa();

}  // namespace bdl::kernels
