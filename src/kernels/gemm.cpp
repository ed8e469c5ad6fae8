#include "bdl/kernels/gemm.h"

#include <dnnl.h>

#include "bdl/core/error.h"

namespace bdl::kernels {

void gemm(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k, float alpha,
          const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
          int64_t ldc) {
  if (m == 0 || n == 0) return;
  const dnnl_status_t status = dnnl_sgemm(transpose_a ? 'T' : 'N', transpose_b ? 'T' : 'N', m, n, k,
                                          alpha, a, lda, b, ldb, beta, c, ldc);
  BDL_CHECK(status == dnnl_success, "gemm: oneDNN sgemm failed (status ", int(status),
            ") for m=", m, " n=", n, " k=", k);
}

}  // namespace bdl::kernels
