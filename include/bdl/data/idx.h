#pragma once

#include <cstddef>
#include <span>
#include <string>

#include "bdl/core/tensor.h"

namespace bdl::data {

// Reads an IDX file (the MNIST format: big-endian magic 0x000008NN where NN is the
// rank, then one u32 per dimension, then u8 data), gzip-compressed or plain.
// Errors name the file and say what was expected: missing file, bad magic, a
// header or body shorter than it declares, trailing bytes.
Tensor read_idx(const std::string& path);
// The same from bytes in memory (gzip-compressed or plain); `path` names them in errors.
Tensor parse_idx(std::span<const std::byte> bytes, const std::string& path);

// Writes a u8 tensor as an IDX file, gzip-compressed when the path ends in ".gz".
// Written to a temporary file and renamed: a reader never sees half a file.
void write_idx(const std::string& path, const Tensor& data);

}  // namespace bdl::data
