#include "bdl/core/tensor.h"

#include <gtest/gtest.h>

#include "bdl/core/random.h"

namespace bdl {
namespace {

Tensor iota(Shape shape) {
  Tensor t(std::move(shape));
  float v = 0;
  for (float& x : t.span_f32()) x = v++;
  return t;
}

TEST(Tensor, StorageIs64ByteAligned) {
  for (int64_t n : {1, 3, 17, 1000, 1 << 20}) {
    Tensor t({n});
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.f32()) % 64, 0u) << n;
  }
}

TEST(Tensor, NewTensorsAreZeroAndContiguous) {
  Tensor t({2, 3, 4});
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_EQ(t.strides(), (Shape{12, 4, 1}));
  for (float v : t.span_f32()) EXPECT_EQ(v, 0.f);
}

TEST(Tensor, NarrowSelectAndTransposeAreViews) {
  Tensor t = iota({3, 4});
  Tensor row = t.select(0, 1);
  EXPECT_EQ(row.shape(), (Shape{4}));
  EXPECT_EQ(row.at({2}), 6.f);
  Tensor cols = t.narrow(1, 1, 2);
  EXPECT_FALSE(cols.is_contiguous());
  EXPECT_EQ(cols.at({2, 1}), 10.f);
  Tensor tr = t.transpose(0, 1);
  EXPECT_EQ(tr.shape(), (Shape{4, 3}));
  EXPECT_EQ(tr.at({3, 2}), 11.f);
  row.fill(-1.f);
  EXPECT_EQ(t.at({1, 0}), -1.f);
}

TEST(Tensor, ContiguousCopiesStridedViews) {
  Tensor t = iota({3, 4});
  Tensor c = t.transpose(0, 1).contiguous();
  EXPECT_TRUE(c.is_contiguous());
  EXPECT_EQ(c.to_vector(), (std::vector<float>{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}));
  Tensor same = t.contiguous();
  EXPECT_EQ(same.f32(), t.f32());
}

TEST(Tensor, ViewInfersOneDimensionAndReshapeCopiesWhenNeeded) {
  Tensor t = iota({2, 3, 4});
  EXPECT_EQ(t.view({-1, 4}).shape(), (Shape{6, 4}));
  EXPECT_THROW(t.view({5, -1}), Error);
  EXPECT_THROW(t.transpose(0, 2).view({24}), Error);
  Tensor r = t.transpose(0, 2).reshape({24});
  EXPECT_EQ(r.at({1}), 12.f);
}

TEST(Tensor, ResizeReusesLargeEnoughStorage) {
  Tensor t({4, 4});
  const float* before = t.f32();
  t.resize({2, 8});
  EXPECT_EQ(t.f32(), before);
  t.resize({3, 3});
  EXPECT_EQ(t.f32(), before);
  t.resize({10, 10});
  EXPECT_NE(t.f32(), nullptr);
  EXPECT_EQ(t.shape(), (Shape{10, 10}));
}

// A block whose last handle is recycled waits in the pool and serves the next
// resize() that fits it; a block something else still holds, memory another
// owner lent, or a block more than twice the request never does. A new tensor
// is never handed a used block: it must read as zeros.
TEST(Tensor, RecycledLargeBlocksServeTheNextResize) {
  Storage::release_idle();
  const Shape big{1 << 20};  // 4 MiB
  Tensor a(big);
  const float* block = a.f32();
  a.recycle();
  EXPECT_FALSE(a.defined());
  EXPECT_EQ(Storage::idle_bytes(), size_t{4} << 20);
  Tensor b;
  b.resize({1 << 19});  // 2 MiB: within twice the request, served from the pool
  EXPECT_EQ(b.f32(), block);
  EXPECT_EQ(Storage::idle_bytes(), 0u);

  Tensor fresh(big);  // a new tensor maps fresh zeros
  EXPECT_NE(fresh.f32(), block);
  EXPECT_EQ(fresh.at({0}), 0.f);

  b.fill(1.f);
  Tensor view = b.view({1 << 19});
  b.recycle();  // the view still holds it
  EXPECT_EQ(Storage::idle_bytes(), 0u);
  view.recycle();
  EXPECT_EQ(Storage::idle_bytes(), size_t{4} << 20);
  Tensor small;
  small.resize({1 << 18});  // 1 MiB: a quarter of the block
  EXPECT_NE(small.f32(), block);
  EXPECT_EQ(Storage::idle_bytes(), size_t{4} << 20);
  Tensor tiny({16});
  const float* tiny_block = tiny.f32();
  tiny.recycle();
  EXPECT_EQ(Storage::idle_bytes(), (size_t{4} << 20) + 64);
  tiny.resize({10});
  EXPECT_EQ(tiny.f32(), tiny_block);

  std::vector<float> owned(1 << 20);
  Tensor borrowed = Tensor::borrow(owned.data(), DType::f32, big, std::make_shared<int>(0));
  borrowed.recycle();  // never pooled: the memory is not bdl's to reuse
  EXPECT_EQ(Storage::idle_bytes(), size_t{4} << 20);

  Tensor grown({1 << 19});
  grown.resize(big);  // outgrows its own block, takes the pooled one, pools its own
  EXPECT_EQ(grown.f32(), block);
  EXPECT_EQ(Storage::idle_bytes(), size_t{2} << 20);

  const bool before = Storage::set_recycling(false);
  EXPECT_TRUE(before);
  EXPECT_EQ(Storage::idle_bytes(), 0u);
  grown.recycle();
  EXPECT_EQ(Storage::idle_bytes(), 0u);
  Storage::set_recycling(true);
}

TEST(Tensor, ErrorsNameTheShape) {
  Tensor t({2, 3});
  try {
    t.at({2, 0});
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "index 2 out of range in dimension 0 of tensor of shape [2, 3]");
  }
  try {
    t.data<int64_t>();
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "tensor of shape [2, 3] has dtype f32, expected i64");
  }
  EXPECT_THROW(t.narrow(1, 2, 2), Error);
  EXPECT_THROW(Tensor({-1}), Error);
}

TEST(Tensor, DtypesI64AndU8) {
  Tensor a({3}, DType::i64);
  a.data<int64_t>()[2] = int64_t{1} << 40;
  EXPECT_EQ(a.at_i64({2}), int64_t{1} << 40);
  Tensor b({2, 2}, DType::u8);
  b.data<uint8_t>()[3] = 255;
  EXPECT_EQ(b.at({1, 1}), 255.f);
  EXPECT_EQ(b.clone().at({1, 1}), 255.f);
}

TEST(Rng, SameSeedSameStreamAndUnbiasedBelow) {
  Rng a(42), b(42), c(43);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(a.next_u64(), b.next_u64());
  EXPECT_NE(Rng(42).next_u64(), c.next_u64());
  Rng r(1);
  std::vector<int> counts(3);
  for (int i = 0; i < 30000; ++i) ++counts[r.below(3)];
  for (int n : counts) EXPECT_NEAR(n, 10000, 400);
  EXPECT_NE(Rng::derive(1, 0), Rng::derive(1, 1));
}

}  // namespace
}  // namespace bdl

TEST(Tensor, LargeTensorsStartAtZeroEvenWhereMemoryWasUsedBefore) {
  // Blocks of 2 MiB and more are fresh mappings that are not written at
  // construction: what a freed block held must not show through.
  const bdl::Shape shape{1 << 20};  // 4 MiB
  for (int round = 0; round < 3; ++round) {
    bdl::Tensor t(shape);
    for (float v : t.span_f32()) ASSERT_EQ(v, 0.f) << "round " << round;
    t.fill(7.f);
  }
}
