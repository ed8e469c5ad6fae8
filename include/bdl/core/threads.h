#pragma once

namespace bdl {

// Threads used by the kernels of this process (oneDNN's OpenMP pool). Zero or a
// negative value means one per core.
void set_num_threads(int threads);
int num_threads();

}  // namespace bdl
