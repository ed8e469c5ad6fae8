#include "bdl/data/npy.h"

#include <cstring>
#include <fstream>
#include <iterator>

#include "bdl/core/file.h"

namespace bdl::data {
namespace {

constexpr char kMagic[] = "\x93NUMPY";

// The value of 'key' in the header's Python dict literal, as written by NumPy:
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
std::string dict_value(const std::string& header, const std::string& key, const std::string& name) {
  const std::string quoted = "'" + key + "'";
  const auto at = header.find(quoted);
  BDL_CHECK(at != std::string::npos, name, ": .npy header has no ", quoted);
  auto p = header.find(':', at + quoted.size());
  BDL_CHECK(p != std::string::npos, name, ": .npy header: no value for ", quoted);
  ++p;
  while (p < header.size() && header[p] == ' ') ++p;
  BDL_CHECK(p < header.size(), name, ": .npy header: no value for ", quoted);
  size_t end;
  if (header[p] == '\'') {
    end = header.find('\'', p + 1);
    BDL_CHECK(end != std::string::npos, name, ": .npy header: unterminated string");
    return header.substr(p + 1, end - p - 1);
  }
  if (header[p] == '(') {
    end = header.find(')', p);
    BDL_CHECK(end != std::string::npos, name, ": .npy header: unterminated shape");
    return header.substr(p, end - p + 1);
  }
  end = header.find_first_of(",}", p);
  BDL_CHECK(end != std::string::npos, name, ": .npy header: unterminated value");
  return header.substr(p, end - p);
}

Shape parse_shape(const std::string& text, const std::string& name) {
  Shape shape;
  size_t p = 1;  // after '('
  while (p < text.size()) {
    while (p < text.size() && (text[p] == ' ' || text[p] == ',')) ++p;
    if (p >= text.size() || text[p] == ')') break;
    BDL_CHECK(text[p] >= '0' && text[p] <= '9', name, ": .npy shape ", text,
              " is not a tuple of sizes");
    int64_t v = 0;
    while (p < text.size() && text[p] >= '0' && text[p] <= '9') {
      BDL_CHECK(v < (int64_t{1} << 50), name, ": .npy shape ", text, " is too large");
      v = v * 10 + (text[p] - '0');
      ++p;
    }
    shape.push_back(v);
  }
  BDL_CHECK(shape.size() <= 16, name, ": .npy shape ", text, " has too many dimensions");
  return shape;
}

}  // namespace

Tensor parse_npy(const std::string& bytes, const std::string& name) {
  BDL_CHECK(bytes.size() >= 10 && std::memcmp(bytes.data(), kMagic, 6) == 0, name,
            ": not a .npy file (wrong magic bytes)");
  const int major = static_cast<unsigned char>(bytes[6]);
  BDL_CHECK(major >= 1 && major <= 3, name, ": .npy format version ", major, " is not 1, 2 or 3");
  size_t header_len, start;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) |
                 (static_cast<size_t>(static_cast<unsigned char>(bytes[9])) << 8);
    start = 10;
  } else {
    BDL_CHECK(bytes.size() >= 12, name, ": truncated .npy header");
    uint32_t n;
    std::memcpy(&n, bytes.data() + 8, 4);
    header_len = n;
    start = 12;
  }
  BDL_CHECK(header_len <= bytes.size() - start, name, ": truncated .npy header");
  const std::string header = bytes.substr(start, header_len);
  const std::string descr = dict_value(header, "descr", name);
  const std::string fortran = dict_value(header, "fortran_order", name);
  BDL_CHECK(fortran == "False", name,
            ": Fortran-order arrays are not supported (save with "
            "np.ascontiguousarray)");
  DType dtype;
  size_t element;
  if (descr == "<f4") {
    dtype = DType::f32;
    element = 4;
  } else if (descr == "<i8") {
    dtype = DType::i64;
    element = 8;
  } else {
    fail(name, ": .npy dtype '", descr, "' is not supported (use float32 '<f4' or int64 '<i8')");
  }
  const Shape shape = parse_shape(dict_value(header, "shape", name), name);
  const size_t data_start = start + header_len;
  const int64_t n = shape_numel(shape);
  BDL_CHECK(static_cast<uint64_t>(n) <= (bytes.size() - data_start) / element &&
                static_cast<uint64_t>(n) * element == bytes.size() - data_start,
            name, ": .npy data holds ", bytes.size() - data_start, " bytes, shape ",
            shape_str(shape), " needs ", static_cast<uint64_t>(n) * element);
  Tensor t = Tensor::empty(shape, dtype);
  if (n > 0) std::memcpy(t.raw_data(), bytes.data() + data_start, static_cast<size_t>(n) * element);
  return t;
}

Tensor read_npy(const std::string& path) {
  InputFile in(path);
  std::string bytes(in.size(), '\0');
  in.read(bytes.data(), bytes.size(), 0, "the array");
  return parse_npy(bytes, path);
}

void write_npy(const Tensor& tensor, const std::string& path) {
  BDL_CHECK(tensor.dtype() == DType::f32 || tensor.dtype() == DType::i64, path,
            ": only f32 and i64 arrays are written");
  const Tensor t = tensor.contiguous();
  std::string shape = "(";
  for (int64_t s : t.shape()) shape += std::to_string(s) + ", ";
  if (t.dim() > 1) shape.resize(shape.size() - 2);
  if (t.dim() == 1) shape.resize(shape.size() - 1);
  shape += ")";
  std::string header = std::string("{'descr': '") + (t.dtype() == DType::f32 ? "<f4" : "<i8") +
                       "', 'fortran_order': False, 'shape': " + shape + ", }";
  // Pad with spaces so the data starts at a multiple of 64, ending with a newline.
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  AtomicFile out(path);
  out.write(kMagic, 6);
  const unsigned char version[2] = {1, 0};
  out.write(version, 2);
  const uint16_t len = static_cast<uint16_t>(header.size());
  out.write(&len, 2);
  out.write(header.data(), header.size());
  out.write(t.raw_data(), static_cast<size_t>(t.numel()) * (t.dtype() == DType::f32 ? 4 : 8));
  out.commit();
}

}  // namespace bdl::data
