#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace bdl {

// The one exception type of bdl. The message says what was expected and what was
// found, and names the file, flag, layer or shape at fault ("conv1: input has 3
// channels, weight expects 1"). Callers at a boundary (CLI, loaders) print what()
// as a single line.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

namespace detail {
template <typename... Parts>
std::string concat(Parts&&... parts) {
  std::ostringstream out;
  (out << ... << std::forward<Parts>(parts));
  return out.str();
}
}  // namespace detail

// Throws bdl::Error with the streamed parts concatenated.
template <typename... Parts>
[[noreturn]] void fail(Parts&&... parts) {
  throw Error(detail::concat(std::forward<Parts>(parts)...));
}

#define BDL_CHECK(cond, ...)               \
  do {                                     \
    if (!(cond)) ::bdl::fail(__VA_ARGS__); \
  } while (0)

}  // namespace bdl
