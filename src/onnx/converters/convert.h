#pragma once

// What the operator converters share: building modules on values, reshapes that
// keep the batch dimension free, broadcasting arithmetic with constants, 2-d
// windows. The converters themselves, one per ONNX operator (or family), are
// declared here and listed by name in operators.cpp.
#include <memory>
#include <optional>
#include <vector>

#include "bdl/nn/elementwise.h"
#include "bdl/nn/gather.h"
#include "bdl/nn/module.h"
#include "bdl/nn/pad.h"
#include "bdl/nn/reduce.h"
#include "bdl/nn/slice.h"
#include "bdl/nn/transpose.h"
#include "bdl/nn/view.h"
#include "onnx/context.h"

namespace bdl::onnx::convert {

using nn::Module;
template <typename M, typename... Args>
std::unique_ptr<Module> make(Args&&... args) {
  return std::make_unique<M>(std::forward<Args>(args)...);
}

// An axis in [-rank, rank) as a dimension index; out of range is an error.
int64_t normalize_axis(Context& c, int64_t axis, size_t rank);

// The single data input as a graph value or constant, and one module on it.
void unary(Context& c, std::unique_ptr<Module> m);

// Copies a constant into a layer's tensor of the same shape (or the same number
// of elements); a mismatch names `what`.
void copy_into(Tensor& dst, const Tensor& src, Context& c, const char* what);

// Reshapes a value to `out`, whose dimension `out_batch` (-1: none) is the
// batch: written as -1 (or kept, by Reshape, when it stays first) so that the
// graph runs on other batch sizes than the import's.
Value reshape_to(Context& c, const Value& v, const Shape& out, int out_batch);

// y's batch dimension is x's (moved, not reshaped): what is folded into it too.
inline void keep_folds(Value& y, const Value& x) {
  if (y.batch_axis < 0) return;
  y.batch_outer = x.batch_outer;
  y.batch_inner = x.batch_inner;
}

// The batch's own size in v's batch dimension (without what is folded into it):
// the import's batch size; 0 when unknown.
int64_t batch_size_of(const Value& v);

// Where a reshape of v to `out` puts the batch, and what it folds around it.
struct BatchPlace {
  int axis = -1;
  int64_t outer = 1, inner = 1;
};
std::optional<BatchPlace> batch_at(const Value& v, const Shape& out, int k);
BatchPlace place_batch(const Value& v, const Shape& out, int prefer);

// A binary operation of two values, either possibly constant. A constant
// operand becomes the module's own tensor: trainable when it is an initializer.
// Broadcasting to a higher rank moves the batch dimension right.
Value binary(Context& c, nn::BinaryOp op, const Value& a, const Value& b);

// A Unary function on the single input.
void unary_fn(Context& c, nn::UnaryOp op, float alpha = 0, float beta = 0);

// Spatial 2-d attributes of Conv and the pools: kernel, strides, pads (top,
// left, bottom, right), dilations; auto_pad resolved against the input size.
struct Window {
  int64_t kh, kw, sh, sw, dh, dw;
  int64_t top, left, bottom, right;
};

// A 1-d window (input (N, C, L)) is the 2-d one of height 1 on (N, C, 1, L).
Window window(Context& c, const Shape& input, const std::vector<int64_t>& kernel);

// (N, C, L) as (N, C, 1, L) for the 2-d layers; 4-d values pass through.
Value as_2d(Context& c, const Value& x);

// Back from as_2d's (N, C, 1, L) for a value of the given original rank.
Value from_2d(Context& c, const Value& y, size_t rank);

// Where the batch dimension goes through a reduction over `axes` (all when
// empty): gone when reduced, moved left by the dropped axes before it.
int reduced_batch_axis(const Value& x, const std::vector<int64_t>& axes, bool keep);

// Squeeze's and Unsqueeze's axes: an attribute before opset 13, then an input.
std::vector<int64_t> axes_of(Context& c, size_t input);

// Converters.
void binary_op(Context& c, nn::BinaryOp op);
void variadic(Context& c, nn::BinaryOp op, bool mean);
void gemm(Context& c);
void matmul(Context& c);
void softmax(Context& c, bool log);
void clip(Context& c);
void prelu(Context& c);
void reduce(Context& c, nn::ReduceOp op);
void reduce_composed(Context& c, std::optional<nn::UnaryOp> before, bool square,
                     std::optional<nn::UnaryOp> after);
void layer_norm(Context& c);
void conv(Context& c);
void conv_transpose(Context& c);
void resize(Context& c);
void pool(Context& c, bool average);
void global_pool(Context& c, bool average);
void batch_norm(Context& c);
void lrn(Context& c);
void dropout(Context& c);
void flatten(Context& c);
void reshape(Context& c);
void squeeze(Context& c);
void unsqueeze(Context& c);
void transpose(Context& c);
void gather(Context& c);
void concat(Context& c);
void split(Context& c);
void slice(Context& c);
void pad(Context& c);
void constant_of_shape(Context& c);
void constant_fill(Context& c);
void size(Context& c);
void constant(Context& c);
void shape(Context& c);
void cast(Context& c);
void expand(Context& c);
void identity(Context& c);
void convert_lstm(Context& c);
void convert_gru(Context& c);
void where(Context& c);
void trilu(Context& c);
void gather_elements(Context& c);
void arg_reduce(Context& c, bool max);
void is_inf(Context& c);
void mod(Context& c);
void gelu(Context& c);
void group_norm(Context& c);
void einsum(Context& c);
void range(Context& c);
void tile(Context& c);
void scatter_nd(Context& c);
void gather_nd(Context& c);
void scaled_dot_product_attention(Context& c);
void multi_head_attention(Context& c);

}  // namespace bdl::onnx::convert
