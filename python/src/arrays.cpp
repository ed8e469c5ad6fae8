#include "arrays.h"

#include <memory>
#include <vector>

#include "bdl/core/error.h"

namespace bdl::python {

Tensor borrow(const Array& array, const std::string& what) {
  DType dtype{};
  if (array.dtype() == nb::dtype<float>()) {
    dtype = DType::f32;
  } else if (array.dtype() == nb::dtype<uint8_t>()) {
    dtype = DType::u8;
  } else if (array.dtype() == nb::dtype<int64_t>()) {
    dtype = DType::i64;
  } else {
    fail(what, ": arrays of float32, uint8 or int64 only");
  }
  Shape shape(array.ndim());
  for (size_t i = 0; i < array.ndim(); ++i) shape[i] = static_cast<int64_t>(array.shape(i));
  // The array stays alive while the tensor or any view of it does. The last
  // reference may go on a thread without the GIL: take it to let go.
  std::shared_ptr<const void> owner(new Array(array), [](const Array* a) {
    nb::gil_scoped_acquire gil;
    delete a;
  });
  return Tensor::borrow(const_cast<void*>(array.data()), dtype, std::move(shape), std::move(owner));
}

nb::object to_numpy(Tensor tensor) {
  if (!tensor.is_plain() || !tensor.is_contiguous()) tensor = tensor.contiguous();
  auto* kept = new Tensor(std::move(tensor));
  nb::capsule owner(kept, [](void* p) noexcept { delete static_cast<Tensor*>(p); });
  std::vector<size_t> shape(kept->shape().begin(), kept->shape().end());
  if (kept->dtype() == DType::i64) {
    return nb::ndarray<nb::numpy, int64_t>(kept->data<int64_t>(), shape.size(), shape.data(), owner)
        .cast();
  }
  if (kept->dtype() == DType::u8) {
    return nb::ndarray<nb::numpy, uint8_t>(kept->data<uint8_t>(), shape.size(), shape.data(), owner)
        .cast();
  }
  return nb::ndarray<nb::numpy, float>(kept->f32(), shape.size(), shape.data(), owner).cast();
}

Tensor detached_copy(const Tensor& tensor) {
  Tensor copy = Tensor::empty(tensor.shape(), tensor.dtype());
  copy.copy_from(tensor);
  return copy;
}

}  // namespace bdl::python
