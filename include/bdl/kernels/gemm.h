#pragma once

#include <cstdint>

namespace bdl::kernels {

// Row-major single-precision matrix product on oneDNN's sgemm:
// C (m, n) = alpha * op(A) op(B) + beta * C, op transposing when asked, with
// leading dimensions lda, ldb, ldc in elements. For layers whose shapes change
// call to call (ONNX MatMul), where a cached primitive would not pay.
void gemm(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k, float alpha,
          const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
          int64_t ldc);

}  // namespace bdl::kernels
