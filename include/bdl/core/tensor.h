#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "bdl/core/dtype.h"
#include "bdl/core/error.h"

namespace bdl {

using Shape = std::vector<int64_t>;

std::string shape_str(std::span<const int64_t> shape);
int64_t shape_numel(std::span<const int64_t> shape);

// Caps the bytes of Storage this thread may allocate while it lives: a model
// loader builds layers from sizes read from a file, and a corrupt size must give
// an error, not exhaust memory. Scopes nest.
class AllocationBudget {
 public:
  AllocationBudget(size_t bytes, std::string what);
  ~AllocationBudget();
  AllocationBudget(const AllocationBudget&) = delete;
  AllocationBudget& operator=(const AllocationBudget&) = delete;

 private:
  friend class Storage;
  size_t left_;
  std::string what_;
  AllocationBudget* outer_;
};

// A 64-byte-aligned block of memory shared by a tensor and its views. Blocks of
// 2 MiB and more are fresh anonymous mappings backed by transparent huge pages: on
// the machines bdl runs on, first-touching 4 KiB pages costs far more than writing
// memory already mapped, and a fresh mapping reads as zeros without being touched
// (a zero tensor of gradients that a loaded model may never use costs nothing).
class Storage {
 public:
  explicit Storage(size_t bytes);
  // Memory held by another owner (a NumPy array's): never freed here; `owner`
  // keeps it alive while the storage lives.
  Storage(void* data, size_t bytes, std::shared_ptr<const void> owner);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  // Whether the block was zero-filled when allocated (a fresh mapping); only
  // meaningful before anything writes to it.
  bool allocated_zeroed() const { return mapped_ != 0; }

  // Storage blocks allocated by this process so far: tests use it to check that
  // a training iteration after the first allocates none.
  static int64_t allocations();
  // Blocks of this process's own that no tensor holds any more wait in a pool
  // for the next Tensor::resize() that needs memory, instead of being unmapped
  // (or handed back to malloc, which unmaps large blocks too) and first-touched
  // again: how one layer's gradient memory becomes the next layer's.
  // idle_bytes() is what waits there now; release_idle() frees it.
  static size_t idle_bytes();
  static void release_idle();
  // Whether blocks are pooled (on by default); returns the previous setting.
  // Turning it off empties the pool. Tests and benchmarks compare the two.
  static bool set_recycling(bool on);
  bool poolable() const;

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
  void* mapping_ = nullptr;  // the anonymous mapping of a large block
  size_t mapped_ = 0;
  std::shared_ptr<const void> owner_;  // set for memory held by another owner
};

// A physical arrangement of a tensor's elements other than strided row-major,
// such as oneDNN's channel-blocked nChw16c. The kernels define layouts; core only
// needs to size their storage and convert them back to plain.
class Layout {
 public:
  virtual ~Layout() = default;
  virtual std::string name() const = 0;
  // Bytes of storage a tensor in this layout occupies (blocked layouts pad).
  virtual size_t bytes() const = 0;
  // Writes the elements in plain contiguous row-major order to dst.
  virtual void to_plain(const void* src, void* dst) const = 0;
};

// A dense n-dimensional array: dtype, shape, strides (in elements) and an offset
// into shared storage. Views (narrow, select, view, transpose) share storage;
// contiguous() and clone() copy when needed.
class Tensor {
 public:
  Tensor() = default;
  // A zero-filled contiguous tensor.
  explicit Tensor(Shape shape, DType dtype = DType::f32);

  static Tensor empty(Shape shape, DType dtype = DType::f32);
  static Tensor zeros(Shape shape, DType dtype = DType::f32) {
    return Tensor(std::move(shape), dtype);
  }
  static Tensor full(Shape shape, float value);
  static Tensor from_vector(std::span<const float> values, Shape shape);
  static Tensor from_vector(std::span<const int64_t> values, Shape shape);
  // A contiguous tensor over memory another owner holds (a NumPy array's),
  // without a copy: `owner` keeps the memory alive as long as the tensor or a
  // view of it lives. The memory must hold numel elements of dtype.
  static Tensor borrow(void* data, DType dtype, Shape shape, std::shared_ptr<const void> owner);

  bool defined() const { return storage_ != nullptr; }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  const Shape& strides() const { return strides_; }
  int64_t dim() const { return static_cast<int64_t>(shape_.size()); }
  int64_t size(int64_t d) const;
  int64_t numel() const { return shape_numel(shape_); }
  int64_t offset() const { return offset_; }
  // Plain and densely packed in row-major order (never true of a blocked layout).
  bool is_contiguous() const;
  // Strided row-major (possibly a non-contiguous view), as opposed to blocked.
  bool is_plain() const { return layout_ == nullptr; }
  // Covers its own buffer densely from its start (contiguous, or a whole
  // blocked tensor): what an elementwise kernel may overwrite in place.
  bool is_dense_from_start() const {
    return defined() && offset_ == 0 && (!is_plain() || is_contiguous());
  }
  const std::shared_ptr<const Layout>& layout() const { return layout_; }
  // Bytes the elements occupy in storage from the offset on.
  size_t physical_bytes() const;
  std::string shape_str() const { return bdl::shape_str(shape_); }
  const std::shared_ptr<Storage>& storage() const { return storage_; }

  template <typename T>
  T* data() const {
    check_dtype(dtype_of<T>());
    return static_cast<T*>(raw_data());
  }
  float* f32() const { return data<float>(); }
  void* raw_data() const;
  std::span<float> span_f32() const;

  // Element access by index, for tests and small code paths only (a blocked
  // tensor is converted to plain for each call).
  float at(std::initializer_list<int64_t> index) const;
  int64_t at_i64(std::initializer_list<int64_t> index) const;
  float item() const;

  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
  Tensor select(int64_t dim, int64_t index) const;
  // Same storage, new shape; the tensor must be contiguous. One entry may be -1.
  Tensor view(Shape shape) const;
  // view() when contiguous, otherwise a contiguous copy with the new shape.
  Tensor reshape(Shape shape) const;
  Tensor transpose(int64_t dim0, int64_t dim1) const;
  // This tensor when contiguous, otherwise a plain contiguous copy (converting
  // from a blocked layout).
  Tensor contiguous() const;
  // A copy in the same layout.
  Tensor clone() const;

  // Makes this tensor contiguous with the given shape and dtype, keeping its
  // storage when it is large enough. Contents are unspecified afterwards. This is
  // how layers reuse their output and gradient buffers across iterations.
  void resize(const Shape& shape, DType dtype = DType::f32);
  // Like resize(), but f32 in the given blocked layout (plain when null).
  void resize(const Shape& shape, std::shared_ptr<const Layout> layout);
  // Drops this handle, leaving the tensor undefined. When it was the storage's
  // last handle, the block goes to the pool that resize() draws on (see
  // Storage::idle_bytes): containers recycle a gradient once it is consumed.
  void recycle();
  // Copies values from a tensor of the same shape and dtype (any strides); from a
  // blocked tensor into a plain one, or between tensors of the same layout.
  void copy_from(const Tensor& source);
  void fill(float value);
  void zero();
  std::vector<float> to_vector() const;

 private:
  Tensor(std::shared_ptr<Storage> storage, DType dtype, Shape shape, Shape strides, int64_t offset);
  void check_dtype(DType expected) const;
  void check_plain(const char* what) const;
  int64_t linear_index(std::initializer_list<int64_t> index) const;
  int64_t normalize_dim(int64_t d) const;

  std::shared_ptr<Storage> storage_;
  DType dtype_ = DType::f32;
  Shape shape_;
  Shape strides_;
  int64_t offset_ = 0;
  std::shared_ptr<const Layout> layout_;
};

Shape contiguous_strides(const Shape& shape);

}  // namespace bdl
