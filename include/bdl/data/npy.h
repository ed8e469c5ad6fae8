#pragma once

#include <string>

#include "bdl/core/tensor.h"

namespace bdl::data {

// NumPy's .npy format (versions 1 to 3), the common way to hand arrays to and
// from Python: little-endian float32 ('<f4') or int64 ('<i8'), C order, any rank.
// Other dtypes, Fortran order or a malformed header get an error naming the file.
Tensor read_npy(const std::string& path);
Tensor parse_npy(const std::string& bytes, const std::string& name);
void write_npy(const Tensor& tensor, const std::string& path);

}  // namespace bdl::data
