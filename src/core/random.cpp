#include "bdl/core/random.h"

#include <cmath>
#include <numbers>

namespace bdl {
namespace {

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

void Rng::reseed(uint64_t seed) {
  for (auto& s : state_) s = splitmix64(seed);
}

// xoshiro256** (Blackman and Vigna, 2018).
uint64_t Rng::next_u64() {
  const uint64_t result = rotl(state_[1] * 5, 7) * 9;
  const uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = rotl(state_[3], 45);
  return result;
}

double Rng::uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

double Rng::normal() {
  // Box-Muller; one of the pair is discarded to keep the stream stateless.
  const double u1 = 1.0 - uniform();
  const double u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

uint64_t Rng::below(uint64_t n) {
  // Lemire's multiply-shift with rejection, unbiased.
  uint64_t x = next_u64();
  __uint128_t m = static_cast<__uint128_t>(x) * n;
  auto low = static_cast<uint64_t>(m);
  if (low < n) {
    const uint64_t threshold = -n % n;
    while (low < threshold) {
      x = next_u64();
      m = static_cast<__uint128_t>(x) * n;
      low = static_cast<uint64_t>(m);
    }
  }
  return static_cast<uint64_t>(m >> 64);
}

void Rng::fill_uniform(std::span<float> out, float low, float high) {
  for (float& v : out) v = uniform(low, high);
}

void Rng::fill_normal(std::span<float> out, float mean, float stddev) {
  for (float& v : out) v = mean + stddev * static_cast<float>(normal());
}

uint64_t Rng::derive(uint64_t seed, uint64_t tag) {
  uint64_t x = seed ^ (tag * 0xd1342543de82ef95ULL);
  splitmix64(x);
  return splitmix64(x);
}

}  // namespace bdl

namespace bdl {
Rng& global_rng() {
  static Rng rng(0);
  return rng;
}
void manual_seed(uint64_t seed) { global_rng().reseed(seed); }
}  // namespace bdl
