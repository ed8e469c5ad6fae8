#pragma once

// NumPy arrays in and out of bdl's tensors: arrays come in without a copy
// (the tensor borrows the array's memory and keeps the array alive), tensors go
// out without a copy (the array keeps the tensor's storage alive).
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <string>

#include "bdl/core/tensor.h"

namespace bdl::python {

namespace nb = nanobind;

// A C-contiguous CPU array of any dtype, read-only ones included (bdl never
// writes to its inputs); the Python layer converts other
// layouts and dtypes with one copy before calling in.
using Array = nb::ndarray<nb::ro, nb::numpy, nb::c_contig, nb::device::cpu>;

// The array as a tensor over the same memory: float32, uint8 or int64, else a
// bdl::Error naming `what`.
Tensor borrow(const Array& array, const std::string& what);

// The tensor as a NumPy array over its storage (plain and contiguous first,
// copying only when it is not): float32 or int64.
nb::object to_numpy(Tensor tensor);

// An independent copy of a tensor the library will overwrite (a module's output
// buffer), made with the GIL released by the caller.
Tensor detached_copy(const Tensor& tensor);

}  // namespace bdl::python
