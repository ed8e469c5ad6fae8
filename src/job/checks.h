#pragma once

#include <string>

#include "bdl/core/error.h"
#include "bdl/job/train.h"

namespace bdl::job {

// A field's name in messages, as the front end calls it.
inline std::string field_name(const FieldNames& names, const std::string& field) {
  return names ? names(field) : field;
}

// Fails with "FIELD: message..." unless ok.
template <typename... Args>
void check_field(bool ok, const FieldNames& names, const std::string& field, const Args&... args) {
  if (!ok) fail(field_name(names, field), ": ", args...);
}

}  // namespace bdl::job
