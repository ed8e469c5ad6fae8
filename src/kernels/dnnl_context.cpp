#include "kernels/dnnl_context.h"

namespace bdl::kernels {

dnnl::engine& cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream& cpu_stream() {
  static dnnl::stream stream(cpu_engine());
  return stream;
}

void execute(dnnl::primitive& primitive, const std::unordered_map<int, dnnl::memory>& args) {
  primitive.execute(cpu_stream(), args);
  cpu_stream().wait();
}

}  // namespace bdl::kernels
