#pragma once

// The little of HDF5 a Keras weights file needs (Debian's libhdf5): groups,
// float32 datasets and string attributes, from a file or from bytes in memory
// (the weights inside a .keras archive). Errors name the file and the path.
#include <hdf5.h>

#include <optional>
#include <string>
#include <vector>

#include "bdl/core/tensor.h"

namespace bdl::keras {

class Hdf5File {
 public:
  static Hdf5File open(const std::string& path);
  static bool is_hdf5(const std::string& path);
  // HDF5 reads a copy of `bytes`; `name` stands for them in messages.
  static Hdf5File from_memory(const std::string& bytes, const std::string& name);
  ~Hdf5File();
  Hdf5File(Hdf5File&& other) noexcept;
  Hdf5File(const Hdf5File&) = delete;
  Hdf5File& operator=(const Hdf5File&) = delete;
  Hdf5File& operator=(Hdf5File&&) = delete;

  const std::string& name() const { return name_; }
  bool exists(const std::string& path) const;
  bool is_group(const std::string& path) const;
  // The names inside a group, in HDF5's (alphabetical) order.
  std::vector<std::string> children(const std::string& group) const;
  // A dataset as float32 (float64 and integer data converted), with its shape.
  Tensor dataset(const std::string& path) const;
  // A string attribute (fixed or variable length), or a list of strings (an
  // array attribute); nullopt when absent.
  std::optional<std::string> text_attribute(const std::string& object,
                                            const std::string& name) const;
  std::vector<std::string> text_list_attribute(const std::string& object,
                                               const std::string& name) const;

 private:
  Hdf5File(hid_t id, std::string name) : id_(id), name_(std::move(name)) {}
  hid_t id_ = -1;
  std::string name_;
};

}  // namespace bdl::keras
