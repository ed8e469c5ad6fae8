#include "bdl/optim/checkpoint.h"

#include <cstring>

#include "bdl/core/error.h"

namespace bdl::optim {
namespace {

class Writer {
 public:
  template <typename T>
  void put(const T& v) {
    out_.append(reinterpret_cast<const char*>(&v), sizeof(T));
  }
  void put_string(const std::string& s) {
    put<uint64_t>(s.size());
    out_ += s;
  }
  void put_floats(const std::vector<float>& v) {
    put<uint64_t>(v.size());
    if (!v.empty()) out_.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(const std::string& in) : in_(in) {}
  template <typename T>
  T get() {
    need(sizeof(T));
    T v;
    std::memcpy(&v, in_.data() + at_, sizeof(T));
    at_ += sizeof(T);
    return v;
  }
  std::string get_string() {
    const auto n = get<uint64_t>();
    need(n);
    std::string s = in_.substr(at_, n);
    at_ += n;
    return s;
  }
  std::vector<float> get_floats() {
    const auto n = get<uint64_t>();
    BDL_CHECK(n <= (in_.size() - at_) / sizeof(float), "worker state: truncated");
    std::vector<float> v(n);
    if (n > 0) std::memcpy(v.data(), in_.data() + at_, n * sizeof(float));
    at_ += n * sizeof(float);
    return v;
  }
  bool done() const { return at_ == in_.size(); }

 private:
  void need(uint64_t n) const { BDL_CHECK(n <= in_.size() - at_, "worker state: truncated"); }
  const std::string& in_;
  size_t at_ = 0;
};

}  // namespace

std::string encode(const WorkerState& state) {
  Writer w;
  w.put(state.offset);
  w.put(state.length);
  w.put<uint64_t>(state.method.vectors.size());
  for (const auto& [name, v] : state.method.vectors) {
    w.put_string(name);
    w.put_floats(v);
  }
  w.put<uint64_t>(state.method.scalars.size());
  for (const auto& [name, v] : state.method.scalars) {
    w.put_string(name);
    w.put(v);
  }
  w.put_floats(state.buffers);
  w.put<uint64_t>(state.random_streams.size());
  for (const auto& s : state.random_streams) w.put(s);
  return w.take();
}

WorkerState decode_worker_state(const std::string& bytes) {
  Reader r(bytes);
  WorkerState s;
  s.offset = r.get<int64_t>();
  s.length = r.get<int64_t>();
  const auto vectors = r.get<uint64_t>();
  for (uint64_t i = 0; i < vectors; ++i) {
    auto name = r.get_string();
    s.method.vectors.emplace_back(std::move(name), r.get_floats());
  }
  const auto scalars = r.get<uint64_t>();
  for (uint64_t i = 0; i < scalars; ++i) {
    auto name = r.get_string();
    s.method.scalars.emplace_back(std::move(name), r.get<double>());
  }
  s.buffers = r.get_floats();
  const auto streams = r.get<uint64_t>();
  for (uint64_t i = 0; i < streams; ++i)
    s.random_streams.push_back(r.get<std::array<uint64_t, 4>>());
  BDL_CHECK(r.done(), "worker state: trailing bytes");
  return s;
}

}  // namespace bdl::optim
