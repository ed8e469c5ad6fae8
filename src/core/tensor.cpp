#include "bdl/core/tensor.h"

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <new>

namespace bdl {
namespace {

constexpr size_t kAlignment = 64;
std::atomic<int64_t> g_allocations{0};
thread_local AllocationBudget* t_budget = nullptr;
constexpr size_t kHugePage = size_t{2} << 20;

// Copies an n-d strided region element by element; used only for non-contiguous
// copies, which no hot path makes.
void strided_copy(char* dst, const Shape& dst_strides, const char* src, const Shape& src_strides,
                  const Shape& shape, size_t elem, size_t d) {
  if (d == shape.size()) {
    std::memcpy(dst, src, elem);
    return;
  }
  for (int64_t i = 0; i < shape[d]; ++i) {
    strided_copy(dst + i * dst_strides[d] * static_cast<int64_t>(elem), dst_strides,
                 src + i * src_strides[d] * static_cast<int64_t>(elem), src_strides, shape, elem,
                 d + 1);
  }
}

}  // namespace

std::string shape_str(std::span<const int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

int64_t shape_numel(std::span<const int64_t> shape) {
  int64_t n = 1;
  for (int64_t s : shape) {
    if (__builtin_mul_overflow(n, s, &n))
      fail("shape ", shape_str(shape), " has too many elements");
  }
  return n;
}

Shape contiguous_strides(const Shape& shape) {
  Shape strides(shape.size());
  int64_t stride = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = stride;
    // Only a shape with a zero size (no elements) can overflow here, and then the
    // strides are never used to address anything.
    if (__builtin_mul_overflow(stride, shape[i], &stride)) stride = 0;
  }
  return strides;
}

AllocationBudget::AllocationBudget(size_t bytes, std::string what)
    : left_(bytes), what_(std::move(what)), outer_(t_budget) {
  t_budget = this;
}
AllocationBudget::~AllocationBudget() { t_budget = outer_; }

Storage::Storage(size_t bytes) : bytes_(bytes) {
  if (t_budget != nullptr) {
    BDL_CHECK(bytes <= t_budget->left_, t_budget->what_, ": building it would take more than the ",
              t_budget->left_, " bytes of memory its size allows (asked for ", bytes,
              "): the description is corrupt");
    t_budget->left_ -= bytes;
  }
  const size_t alloc = std::max<size_t>(bytes, 1);
  if (alloc >= kHugePage) {
    // Mapped one huge page more than needed, to start the block on a 2 MiB boundary.
    const size_t rounded = (alloc + kHugePage - 1) / kHugePage * kHugePage;
    void* m = mmap(nullptr, rounded + kHugePage, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m != MAP_FAILED) {
      mapping_ = m;
      mapped_ = rounded + kHugePage;
      // The first huge-page boundary inside the mapping.
      const auto at = reinterpret_cast<uintptr_t>(m);
      data_ = static_cast<char*>(m) + ((kHugePage - at % kHugePage) % kHugePage);
      madvise(data_, rounded, MADV_HUGEPAGE);
    }
  } else {
    data_ = std::aligned_alloc(kAlignment, (alloc + kAlignment - 1) / kAlignment * kAlignment);
  }
  if (!data_) fail("out of memory allocating ", bytes, " bytes");
  g_allocations.fetch_add(1, std::memory_order_relaxed);
}

Storage::Storage(void* data, size_t bytes, std::shared_ptr<const void> owner)
    : data_(data), bytes_(bytes), owner_(std::move(owner)) {
  BDL_CHECK(data != nullptr || bytes == 0, "Storage: null memory of ", bytes, " bytes");
}

int64_t Storage::allocations() { return g_allocations.load(std::memory_order_relaxed); }

// The pool of idle blocks. A block enters only when its last handle lets
// go of it through Tensor::recycle() or a resize() that outgrew it, so no tensor
// can still read or write it; resize() takes the smallest block that fits and is
// at most twice the size asked for (a small buffer must not strand a large block
// that the next large gradient would then have to map afresh).
namespace {

struct IdleBlocks {
  std::atomic<bool> recycling{true};
  std::mutex mutex;
  std::multimap<size_t, std::shared_ptr<Storage>> by_size;
  size_t bytes = 0;
};

IdleBlocks& idle_blocks() {
  static auto* blocks = new IdleBlocks;  // never destroyed: tensors may outlive statics
  return *blocks;
}

void give_to_pool(std::shared_ptr<Storage> storage) {
  auto& idle = idle_blocks();
  if (!storage || storage.use_count() != 1 || !storage->poolable() || !idle.recycling) return;
  const std::lock_guard lock(idle.mutex);
  idle.bytes += storage->bytes();
  idle.by_size.emplace(storage->bytes(), std::move(storage));
}

std::shared_ptr<Storage> take_or_allocate(size_t bytes) {
  if (bytes > 0) {
    auto& idle = idle_blocks();
    const std::lock_guard lock(idle.mutex);
    auto it = idle.by_size.lower_bound(bytes);
    if (it != idle.by_size.end() && it->first / 2 <= bytes) {
      auto storage = std::move(it->second);
      idle.by_size.erase(it);
      idle.bytes -= storage->bytes();
      return storage;
    }
  }
  return std::make_shared<Storage>(bytes);
}

}  // namespace

bool Storage::poolable() const { return owner_ == nullptr && bytes_ > 0; }

size_t Storage::idle_bytes() {
  auto& idle = idle_blocks();
  const std::lock_guard lock(idle.mutex);
  return idle.bytes;
}

bool Storage::set_recycling(bool on) {
  const bool before = idle_blocks().recycling.exchange(on);
  if (!on) release_idle();
  return before;
}

void Storage::release_idle() {
  std::multimap<size_t, std::shared_ptr<Storage>> blocks;
  auto& idle = idle_blocks();
  {
    const std::lock_guard lock(idle.mutex);
    blocks.swap(idle.by_size);
    idle.bytes = 0;
  }
}

Storage::~Storage() {
  if (owner_ != nullptr) return;  // another owner's memory
  if (mapping_ != nullptr) {
    munmap(mapping_, mapped_);
  } else {
    std::free(data_);
  }
}

Tensor::Tensor(std::shared_ptr<Storage> storage, DType dtype, Shape shape, Shape strides,
               int64_t offset)
    : storage_(std::move(storage)),
      dtype_(dtype),
      shape_(std::move(shape)),
      strides_(std::move(strides)),
      offset_(offset) {}

Tensor::Tensor(Shape shape, DType dtype) : Tensor(empty(std::move(shape), dtype)) {
  if (!storage_->allocated_zeroed()) zero();
}

Tensor Tensor::empty(Shape shape, DType dtype) {
  for (int64_t s : shape)
    BDL_CHECK(s >= 0, "tensor shape ", bdl::shape_str(shape), " has a negative size");
  const auto bytes = static_cast<size_t>(shape_numel(shape)) * dtype_size(dtype);
  Shape strides = contiguous_strides(shape);
  return Tensor(std::make_shared<Storage>(bytes), dtype, std::move(shape), std::move(strides), 0);
}

Tensor Tensor::borrow(void* data, DType dtype, Shape shape, std::shared_ptr<const void> owner) {
  for (int64_t s : shape)
    BDL_CHECK(s >= 0, "tensor shape ", bdl::shape_str(shape), " has a negative size");
  BDL_CHECK(owner != nullptr, "Tensor::borrow: no owner for the memory");
  const auto bytes = static_cast<size_t>(shape_numel(shape)) * dtype_size(dtype);
  Shape strides = contiguous_strides(shape);
  return Tensor(std::make_shared<Storage>(data, bytes, std::move(owner)), dtype, std::move(shape),
                std::move(strides), 0);
}

Tensor Tensor::full(Shape shape, float value) {
  Tensor t = empty(std::move(shape));
  t.fill(value);
  return t;
}

Tensor Tensor::from_vector(std::span<const float> values, Shape shape) {
  BDL_CHECK(shape_numel(shape) == static_cast<int64_t>(values.size()),
            "from_vector: ", values.size(), " values do not fill shape ", bdl::shape_str(shape));
  Tensor t = empty(std::move(shape));
  std::copy(values.begin(), values.end(), t.f32());
  return t;
}

Tensor Tensor::from_vector(std::span<const int64_t> values, Shape shape) {
  BDL_CHECK(shape_numel(shape) == static_cast<int64_t>(values.size()),
            "from_vector: ", values.size(), " values do not fill shape ", bdl::shape_str(shape));
  Tensor t = empty(std::move(shape), DType::i64);
  std::copy(values.begin(), values.end(), t.data<int64_t>());
  return t;
}

int64_t Tensor::normalize_dim(int64_t d) const {
  const int64_t n = dim();
  if (d < 0) d += n;
  BDL_CHECK(d >= 0 && d < n, "dimension ", d, " out of range for tensor of shape ", shape_str());
  return d;
}

int64_t Tensor::size(int64_t d) const { return shape_[normalize_dim(d)]; }

bool Tensor::is_contiguous() const {
  if (layout_) return false;
  int64_t expected = 1;
  for (size_t i = shape_.size(); i-- > 0;) {
    if (shape_[i] != 1 && strides_[i] != expected) return false;
    expected *= shape_[i];
  }
  return true;
}

void Tensor::check_plain(const char* what) const {
  BDL_CHECK(!layout_, what, " of a tensor of shape ", shape_str(), " in blocked layout ",
            layout_->name(), "; call contiguous() first");
}

size_t Tensor::physical_bytes() const {
  if (layout_) return layout_->bytes();
  return static_cast<size_t>(numel()) * dtype_size(dtype_);
}

void Tensor::check_dtype(DType expected) const {
  BDL_CHECK(defined(), "use of an undefined tensor");
  BDL_CHECK(dtype_ == expected, "tensor of shape ", shape_str(), " has dtype ", dtype_name(dtype_),
            ", expected ", dtype_name(expected));
}

void* Tensor::raw_data() const {
  BDL_CHECK(defined(), "use of an undefined tensor");
  return static_cast<char*>(storage_->data()) + offset_ * static_cast<int64_t>(dtype_size(dtype_));
}

std::span<float> Tensor::span_f32() const {
  BDL_CHECK(is_contiguous(), "span_f32 needs a contiguous tensor, got strides ",
            bdl::shape_str(strides_));
  return {f32(), static_cast<size_t>(numel())};
}

int64_t Tensor::linear_index(std::initializer_list<int64_t> index) const {
  BDL_CHECK(static_cast<int64_t>(index.size()) == dim(), "index of rank ", index.size(),
            " for tensor of shape ", shape_str());
  int64_t linear = 0;
  size_t d = 0;
  for (int64_t i : index) {
    BDL_CHECK(i >= 0 && i < shape_[d], "index ", i, " out of range in dimension ", d,
              " of tensor of shape ", shape_str());
    linear += i * strides_[d++];
  }
  return linear;
}

float Tensor::at(std::initializer_list<int64_t> index) const {
  if (layout_) return contiguous().at(index);
  const int64_t i = linear_index(index);
  switch (dtype_) {
    case DType::f32:
      return f32()[i];
    case DType::i64:
      return static_cast<float>(data<int64_t>()[i]);
    case DType::u8:
      return data<uint8_t>()[i];
  }
  return 0;
}

int64_t Tensor::at_i64(std::initializer_list<int64_t> index) const {
  check_plain("at_i64");
  return data<int64_t>()[linear_index(index)];
}

float Tensor::item() const {
  BDL_CHECK(numel() == 1, "item() on tensor of shape ", shape_str());
  return at({0});
}

Tensor Tensor::narrow(int64_t d, int64_t start, int64_t length) const {
  check_plain("narrow");
  d = normalize_dim(d);
  BDL_CHECK(start >= 0 && length >= 0 && start + length <= shape_[d], "narrow(", d, ", ", start,
            ", ", length, ") out of range for tensor of shape ", shape_str());
  Shape shape = shape_;
  shape[d] = length;
  return Tensor(storage_, dtype_, std::move(shape), strides_, offset_ + start * strides_[d]);
}

Tensor Tensor::select(int64_t d, int64_t index) const {
  check_plain("select");
  d = normalize_dim(d);
  BDL_CHECK(index >= 0 && index < shape_[d], "select(", d, ", ", index,
            ") out of range for tensor of shape ", shape_str());
  Shape shape = shape_;
  Shape strides = strides_;
  shape.erase(shape.begin() + d);
  strides.erase(strides.begin() + d);
  return Tensor(storage_, dtype_, std::move(shape), std::move(strides),
                offset_ + index * strides_[d]);
}

namespace {
Shape infer_shape(Shape shape, int64_t numel, const std::string& from) {
  int64_t known = 1;
  int infer = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      BDL_CHECK(infer < 0, "shape ", shape_str(shape), " has more than one -1");
      infer = static_cast<int>(i);
    } else {
      BDL_CHECK(shape[i] >= 0, "shape ", shape_str(shape), " has a negative size");
      known *= shape[i];
    }
  }
  if (infer >= 0) {
    BDL_CHECK(known > 0 && numel % known == 0, "cannot view tensor of shape ", from, " as ",
              shape_str(shape));
    shape[infer] = numel / known;
  }
  BDL_CHECK(shape_numel(shape) == numel, "cannot view tensor of shape ", from, " (", numel,
            " elements) as ", shape_str(shape));
  return shape;
}
}  // namespace

Tensor Tensor::view(Shape shape) const {
  check_plain("view");
  BDL_CHECK(is_contiguous(), "view of non-contiguous tensor of shape ", shape_str(),
            "; use reshape()");
  shape = infer_shape(std::move(shape), numel(), shape_str());
  Shape strides = contiguous_strides(shape);
  return Tensor(storage_, dtype_, std::move(shape), std::move(strides), offset_);
}

Tensor Tensor::reshape(Shape shape) const {
  return is_contiguous() ? view(std::move(shape)) : contiguous().view(std::move(shape));
}

Tensor Tensor::transpose(int64_t dim0, int64_t dim1) const {
  check_plain("transpose");
  dim0 = normalize_dim(dim0);
  dim1 = normalize_dim(dim1);
  Shape shape = shape_;
  Shape strides = strides_;
  std::swap(shape[dim0], shape[dim1]);
  std::swap(strides[dim0], strides[dim1]);
  return Tensor(storage_, dtype_, std::move(shape), std::move(strides), offset_);
}

Tensor Tensor::contiguous() const {
  if (is_contiguous()) return *this;
  Tensor out = empty(shape_, dtype_);
  out.copy_from(*this);
  return out;
}

Tensor Tensor::clone() const {
  Tensor out;
  if (layout_) {
    out.resize(shape_, layout_);
  } else {
    out = empty(shape_, dtype_);
  }
  out.copy_from(*this);
  return out;
}

void Tensor::recycle() {
  give_to_pool(std::move(storage_));
  *this = Tensor();
}

void Tensor::resize(const Shape& shape, std::shared_ptr<const Layout> layout) {
  if (!layout) {
    resize(shape, DType::f32);
    return;
  }
  const size_t bytes = layout->bytes();
  if (!storage_ || storage_->bytes() < bytes) {
    give_to_pool(std::move(storage_));
    storage_ = take_or_allocate(bytes);
  }
  dtype_ = DType::f32;
  shape_ = shape;
  strides_ = contiguous_strides(shape_);
  offset_ = 0;
  layout_ = std::move(layout);
}

void Tensor::resize(const Shape& shape, DType dtype) {
  const auto bytes = static_cast<size_t>(shape_numel(shape)) * dtype_size(dtype);
  if (storage_ && storage_->bytes() >= bytes && offset_ == 0 && shape_ == shape &&
      dtype_ == dtype && is_contiguous()) {
    return;
  }
  layout_.reset();
  if (!storage_ || storage_->bytes() < bytes) {
    give_to_pool(std::move(storage_));
    storage_ = take_or_allocate(bytes);
  }
  dtype_ = dtype;
  shape_ = shape;
  strides_ = contiguous_strides(shape_);
  offset_ = 0;
}

void Tensor::copy_from(const Tensor& source) {
  BDL_CHECK(shape_ == source.shape_, "copy_from: shape ", source.shape_str(),
            " does not match destination shape ", shape_str());
  BDL_CHECK(dtype_ == source.dtype_, "copy_from: dtype ", dtype_name(source.dtype_),
            " does not match destination dtype ", dtype_name(dtype_));
  const size_t elem = dtype_size(dtype_);
  if (source.layout_) {
    if (layout_ == source.layout_) {
      std::memmove(raw_data(), source.raw_data(), layout_->bytes());
      return;
    }
    check_plain("copy_from a blocked tensor into");
    if (is_contiguous()) {
      source.layout_->to_plain(source.raw_data(), raw_data());
    } else {
      copy_from(source.contiguous());
    }
    return;
  }
  check_plain("copy_from a plain tensor into");
  if (is_contiguous() && source.is_contiguous()) {
    std::memmove(raw_data(), source.raw_data(), static_cast<size_t>(numel()) * elem);
    return;
  }
  strided_copy(static_cast<char*>(raw_data()), strides_,
               static_cast<const char*>(source.raw_data()), source.strides_, shape_, elem, 0);
}

void Tensor::fill(float value) {
  check_plain("fill");
  BDL_CHECK(is_contiguous(), "fill needs a contiguous tensor");
  const auto n = static_cast<size_t>(numel());
  switch (dtype_) {
    case DType::f32:
      std::fill_n(f32(), n, value);
      break;
    case DType::i64:
      std::fill_n(data<int64_t>(), n, static_cast<int64_t>(value));
      break;
    case DType::u8:
      std::fill_n(data<uint8_t>(), n, static_cast<uint8_t>(value));
      break;
  }
}

void Tensor::zero() {
  if (layout_) {
    std::memset(raw_data(), 0, layout_->bytes());
    return;
  }
  if (is_contiguous()) {
    std::memset(raw_data(), 0, static_cast<size_t>(numel()) * dtype_size(dtype_));
    return;
  }
  Tensor zeros(shape_, dtype_);
  copy_from(zeros);
}

std::vector<float> Tensor::to_vector() const {
  const Tensor c = contiguous();
  std::vector<float> out(static_cast<size_t>(numel()));
  if (dtype_ == DType::f32) {
    std::copy_n(c.f32(), out.size(), out.begin());
  } else if (dtype_ == DType::i64) {
    std::copy_n(c.data<int64_t>(), out.size(), out.begin());
  } else {
    std::copy_n(c.data<uint8_t>(), out.size(), out.begin());
  }
  return out;
}

}  // namespace bdl
