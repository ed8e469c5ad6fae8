#pragma once

// Copies and sums of tensors in any of oneDNN's layouts, plain or blocked:
// what containers do with their children's outputs and gradients.
#include "bdl/core/tensor.h"

namespace bdl::kernels {

// dst becomes a copy of src in src's layout (a strided view is made dense),
// reusing dst's storage.
void copy_into(Tensor& dst, const Tensor& src);

// acc += x element-wise. acc is dense (plain or blocked); x is reordered to
// acc's layout first (through scratch) when its own differs.
void add_into(Tensor& acc, const Tensor& x, Tensor& scratch);

}  // namespace bdl::kernels
