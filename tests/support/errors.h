#pragma once

#include <functional>
#include <string>

#include "bdl/core/error.h"

namespace bdl::testing {

// The message of the bdl::Error that f throws, or "no error".
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace bdl::testing
