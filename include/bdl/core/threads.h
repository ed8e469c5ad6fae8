#pragma once

namespace bdl {

// The most kernel threads a process may ask for (OpenMP crashes on huge counts).
inline constexpr int kMaxThreads = 1024;

// Threads used by the kernels of this process (oneDNN's OpenMP pool): 0 means
// one per core. Anything outside [0, kMaxThreads] is an error naming `what`
// (the flag or argument that gave it).
void set_num_threads(int threads, const char* what = "threads");
int num_threads();

}  // namespace bdl
