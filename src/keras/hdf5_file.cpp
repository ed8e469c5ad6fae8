#include "keras/hdf5_file.h"

#include <H5LTpublic.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "bdl/core/error.h"

namespace bdl::keras {
namespace {

// HDF5's error stack prints to stderr by default: bdl reports its own errors.
void silence_hdf5() {
  static const bool done = [] {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    return true;
  }();
  (void)done;
}

// Closes an HDF5 handle of any kind when it goes out of scope.
struct Handle {
  hid_t id;
  herr_t (*close)(hid_t);
  ~Handle() {
    if (id >= 0) close(id);
  }
};

}  // namespace

bool Hdf5File::is_hdf5(const std::string& path) {
  silence_hdf5();
  return H5Fis_hdf5(path.c_str()) > 0;
}

Hdf5File Hdf5File::open(const std::string& path) {
  silence_hdf5();
  BDL_CHECK(H5Fis_hdf5(path.c_str()) > 0, path, ": not an HDF5 file");
  const hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  BDL_CHECK(id >= 0, path, ": cannot open the HDF5 file (truncated or damaged?)");
  return {id, path};
}

Hdf5File Hdf5File::from_memory(const std::string& bytes, const std::string& name) {
  silence_hdf5();
  // HDF5 takes its own copy of the image (flags 0) and frees it on close: with
  // DONT_COPY | DONT_RELEASE it would leak its bookkeeping for the image.
  const hid_t id = H5LTopen_file_image(const_cast<char*>(bytes.data()), bytes.size(), 0);
  BDL_CHECK(id >= 0, name, ": not an HDF5 file");
  return {id, name};
}

Hdf5File::~Hdf5File() {
  if (id_ >= 0) H5Fclose(id_);
}

Hdf5File::Hdf5File(Hdf5File&& other) noexcept : id_(other.id_), name_(std::move(other.name_)) {
  other.id_ = -1;
}

bool Hdf5File::exists(const std::string& path) const {
  // Each link along the path must exist before the next is asked about.
  size_t at = 0;
  while (true) {
    at = path.find('/', at + 1);
    const std::string prefix = path.substr(0, at);
    if (!prefix.empty() && H5Lexists(id_, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    if (at == std::string::npos) return true;
  }
}

bool Hdf5File::is_group(const std::string& path) const {
  if (!exists(path)) return false;
  H5O_info_t info;
  if (H5Oget_info_by_name(id_, path.c_str(), &info, H5P_DEFAULT) < 0) return false;
  return info.type == H5O_TYPE_GROUP;
}

std::vector<std::string> Hdf5File::children(const std::string& group) const {
  std::vector<std::string> out;
  if (!is_group(group)) return out;
  const Handle g{H5Gopen2(id_, group.c_str(), H5P_DEFAULT), H5Gclose};
  H5G_info_t info;
  BDL_CHECK(H5Gget_info(g.id, &info) >= 0, name_, ": cannot read group ", group);
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t n =
        H5Lget_name_by_idx(g.id, ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    BDL_CHECK(n >= 0, name_, ": cannot list group ", group);
    std::string s(static_cast<size_t>(n) + 1, '\0');
    H5Lget_name_by_idx(g.id, ".", H5_INDEX_NAME, H5_ITER_INC, i, s.data(), s.size(), H5P_DEFAULT);
    s.resize(static_cast<size_t>(n));
    out.push_back(s);
  }
  return out;
}

Tensor Hdf5File::dataset(const std::string& path) const {
  BDL_CHECK(exists(path), name_, ": no dataset ", path);
  const Handle d{H5Dopen2(id_, path.c_str(), H5P_DEFAULT), H5Dclose};
  BDL_CHECK(d.id >= 0, name_, ": cannot open dataset ", path);
  const Handle space{H5Dget_space(d.id), H5Sclose};
  const int rank = H5Sget_simple_extent_ndims(space.id);
  BDL_CHECK(rank >= 0 && rank <= 8, name_, ": dataset ", path, " has rank ", rank);
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  H5Sget_simple_extent_dims(space.id, dims.data(), nullptr);
  Shape shape(dims.begin(), dims.end());
  const Handle type{H5Dget_type(d.id), H5Tclose};
  // Integers (a Normalization layer's count) are read as float32 too.
  BDL_CHECK(H5Tget_class(type.id) == H5T_FLOAT || H5Tget_class(type.id) == H5T_INTEGER, name_,
            ": dataset ", path, " is not numeric");
  Tensor t = Tensor::empty(shape);
  if (t.numel() > 0) {
    BDL_CHECK(H5Dread(d.id, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, t.f32()) >= 0, name_,
              ": cannot read dataset ", path);
  }
  return t;
}

std::vector<std::string> Hdf5File::text_list_attribute(const std::string& object,
                                                       const std::string& name) const {
  std::vector<std::string> out;
  if (!exists(object) || H5Aexists_by_name(id_, object.c_str(), name.c_str(), H5P_DEFAULT) <= 0) {
    return out;
  }
  const Handle a{H5Aopen_by_name(id_, object.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT),
                 H5Aclose};
  const Handle type{H5Aget_type(a.id), H5Tclose};
  const Handle space{H5Aget_space(a.id), H5Sclose};
  const hssize_t points = H5Sget_simple_extent_npoints(space.id);
  // An empty list (h5py writes [] as an empty float array) is no text at all.
  if (H5Sget_simple_extent_type(space.id) != H5S_SCALAR && points == 0) return out;
  BDL_CHECK(H5Tget_class(type.id) == H5T_STRING, name_, ": attribute ", name, " of ", object,
            " is not text");
  const hssize_t count = std::max<hssize_t>(1, points);
  if (H5Tis_variable_str(type.id) > 0) {
    std::vector<char*> items(static_cast<size_t>(count), nullptr);
    const Handle mem{H5Tcopy(H5T_C_S1), H5Tclose};
    H5Tset_size(mem.id, H5T_VARIABLE);
    H5Tset_cset(mem.id, H5Tget_cset(type.id));
    BDL_CHECK(H5Aread(a.id, mem.id, items.data()) >= 0, name_, ": cannot read attribute ", name);
    for (char* s : items) out.emplace_back(s != nullptr ? s : "");
    H5Dvlen_reclaim(mem.id, space.id, H5P_DEFAULT, items.data());
    return out;
  }
  const size_t width = H5Tget_size(type.id);
  std::string buffer(width * static_cast<size_t>(count), '\0');
  BDL_CHECK(H5Aread(a.id, type.id, buffer.data()) >= 0, name_, ": cannot read attribute ", name);
  for (hssize_t i = 0; i < count; ++i) {
    std::string s = buffer.substr(static_cast<size_t>(i) * width, width);
    s.resize(std::strlen(s.c_str()));
    out.push_back(s);
  }
  return out;
}

std::optional<std::string> Hdf5File::text_attribute(const std::string& object,
                                                    const std::string& name) const {
  const auto list = text_list_attribute(object, name);
  if (list.empty()) return std::nullopt;
  return list.front();
}

}  // namespace bdl::keras
