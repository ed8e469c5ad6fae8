#include "bdl/core/threads.h"

#include <omp.h>

#include "bdl/core/error.h"

namespace bdl {

void set_num_threads(int threads, const char* what) {
  BDL_CHECK(threads >= 0 && threads <= kMaxThreads, what, ": must be 0 (one per core) to ",
            kMaxThreads, ", got ", threads);
  omp_set_num_threads(threads > 0 ? threads : omp_get_num_procs());
}

int num_threads() { return omp_get_max_threads(); }

}  // namespace bdl
