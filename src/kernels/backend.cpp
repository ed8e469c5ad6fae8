#include "bdl/kernels/backend.h"

#include <cstdlib>
#include <dnnl.hpp>
#include <string>

namespace bdl::kernels {

std::string backend_version() {
  const auto* v = dnnl::version();
  return "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
         std::to_string(v->patch);
}

std::string backend_isa() {
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::sse41:
      return "sse41";
    case dnnl::cpu_isa::avx:
      return "avx";
    case dnnl::cpu_isa::avx2:
      return "avx2";
    case dnnl::cpu_isa::avx512_core:
      return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni:
      return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16:
      return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx:
      return "avx512_core_amx";
    case dnnl::cpu_isa::avx2_vnni:
      return "avx2_vnni";
    default:
      return "other";
  }
}

namespace {

ConvAlgorithm initial_conv_algorithm() {
  const char* env = std::getenv("BDL_CONV_ALGORITHM");
  return env != nullptr && std::string(env) == "direct" ? ConvAlgorithm::direct
                                                        : ConvAlgorithm::automatic;
}

ConvAlgorithm& conv_algorithm_setting() {
  static ConvAlgorithm setting = initial_conv_algorithm();
  return setting;
}

}  // namespace

void set_conv_algorithm(ConvAlgorithm algorithm) { conv_algorithm_setting() = algorithm; }
ConvAlgorithm conv_algorithm() { return conv_algorithm_setting(); }

namespace {

Precision& precision_setting() {
  static Precision setting = [] {
    const char* env = std::getenv("BDL_PRECISION");
    return env != nullptr && std::string(env) == "bf16" ? Precision::bf16 : Precision::fp32;
  }();
  return setting;
}

}  // namespace

void set_compute_precision(Precision precision) { precision_setting() = precision; }
Precision compute_precision() { return precision_setting(); }
std::string precision_name(Precision precision) {
  return precision == Precision::bf16 ? "bf16" : "fp32";
}

}  // namespace bdl::kernels
