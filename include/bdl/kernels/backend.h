#pragma once

#include <string>

namespace bdl::kernels {

// What a forward pass is for: training (oneDNN keeps what backward needs, such
// as max pooling's argmax) or inference only (nothing is kept; a backward after
// it is an error).
enum class Pass { training, inference };

// The kernel library and version bdl runs on, e.g. "oneDNN 2.6.3".
std::string backend_version();
// The instruction set oneDNN dispatches to on this CPU, e.g. "avx512_core_bf16".
std::string backend_isa();

// How convolutions are computed. automatic lets oneDNN choose per shape, which
// on AVX-512 takes Winograd's F(4x4, 3x3) for 3x3 stride-1 layers with enough
// channels (2.25x fewer multiplications; float results differ from direct
// convolution at the 1e-6 relative level). direct always convolves directly.
// The default is automatic unless the environment sets BDL_CONV_ALGORITHM=direct.
enum class ConvAlgorithm { automatic, direct };
void set_conv_algorithm(ConvAlgorithm algorithm);
ConvAlgorithm conv_algorithm();

// The precision convolutions compute in. bf16 (mixed precision, for CPUs with
// AVX512-BF16): inputs, weights and incoming gradients are rounded to bf16 for
// the convolution, which accumulates and writes in fp32; weights, their
// gradients, the optimizer and every other layer stay fp32 (fp32 master
// weights). Set before the first forward; BDL_PRECISION=bf16 sets it too.
enum class Precision { fp32, bf16 };
void set_compute_precision(Precision precision);
Precision compute_precision();
std::string precision_name(Precision precision);

}  // namespace bdl::kernels
