#pragma once

#include <array>
#include <cstdint>
#include <span>

namespace bdl {

// A seeded random stream with results that are the same on every platform and
// compiler (std:: distributions are implementation-defined, so bdl draws its own).
class Rng {
 public:
  explicit Rng(uint64_t seed = 0) { reseed(seed); }
  void reseed(uint64_t seed);

  uint64_t next_u64();
  // Uniform in [0, 1).
  double uniform();
  float uniform(float low, float high) {
    return low + static_cast<float>(uniform()) * (high - low);
  }
  double normal();
  // Uniform integer in [0, n).
  uint64_t below(uint64_t n);

  void fill_uniform(std::span<float> out, float low, float high);
  void fill_normal(std::span<float> out, float mean, float stddev);

  // Derives an independent stream from this seed and a tag (for example a rank and an epoch).
  static uint64_t derive(uint64_t seed, uint64_t tag);
  // The stream's position, for checkpoints.
  std::array<uint64_t, 4> state() const { return {state_[0], state_[1], state_[2], state_[3]}; }
  void set_state(const std::array<uint64_t, 4>& s) {
    for (int i = 0; i < 4; ++i) state_[i] = s[i];
  }

 private:
  uint64_t state_[4]{};
};

}  // namespace bdl

namespace bdl {
// The process-wide stream that layers draw their initial weights from.
Rng& global_rng();
// Reseeds global_rng(), like torch.manual_seed.
void manual_seed(uint64_t seed);
}  // namespace bdl
