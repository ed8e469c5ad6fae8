#pragma once

namespace bdl {

// The library's version, "0.1.0".
const char* version();

}  // namespace bdl
