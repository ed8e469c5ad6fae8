// The fused nodes of src/onnx/fuse.cpp that map onto native layers of their own.
#include "bdl/nn/attention.h"

#include "onnx/converters/convert.h"
#include "onnx/fuse.h"

namespace bdl::onnx::convert {

// softmax(scale Q K^T + mask) V onto ScaledDotProductAttention when the shapes
// at import fit it; otherwise NotFusable (the original nodes are converted).
void scaled_dot_product_attention(Context& c) {
  const Value &q = c.input(0), &k = c.input(1), &v = c.input(2);
  auto refuse = [](std::string why) { throw NotFusable{std::move(why)}; };
  if (q.is_constant() || k.is_constant() || v.is_constant()) refuse("a constant operand");
  if (q.integer || k.integer || v.integer) refuse("integer operands");
  const size_t rank = q.shape.size();
  if (rank < 2 || k.shape.size() != rank || v.shape.size() != rank) refuse("ranks differ");
  if (c.integer("softmax_axis", -1) != -1 &&
      c.integer("softmax_axis", -1) != static_cast<int64_t>(rank) - 1) {
    refuse("the softmax is not over the keys");
  }
  // The batch in one leading dimension of all three, folded alike.
  const int batch = q.batch_axis;
  for (const Value* x : {&k, &v}) {
    if (x->batch_axis != batch || x->batch_outer != q.batch_outer ||
        x->batch_inner != q.batch_inner) {
      refuse("the batch is in different places");
    }
  }
  if (batch >= static_cast<int>(rank) - 2) refuse("the batch is in a matrix dimension");
  nn::ScaledDotProductAttentionOptions o;
  o.scale = c.real("scale", 0.f);
  o.key_transposed = c.integer("key_transposed", 0) != 0;
  std::vector<Value> from = {q, k, v};
  Tensor constant_mask;
  if (c.has_input(3)) {
    const Value& m = c.input(3);
    if (m.shape.size() > rank) refuse("the mask's rank");
    if (m.is_constant()) {
      if (m.alt.defined() || m.batch_sized) refuse("a mask that depends on the batch size");
      // One mask for every sample (per head, as Swin's and MaxViT's position
      // biases, may differ): 1 along the batch, so it holds at any batch size.
      const auto lead = static_cast<int>(rank - m.shape.size());
      if (batch >= lead && m.shape[static_cast<size_t>(batch - lead)] != 1) {
        refuse("a constant mask that differs by sample");
      }
      constant_mask = Tensor::from_vector(std::span<const float>(to_floats(m.constant)), m.shape);
      o.mask_shape = m.shape;
    } else {
      if (m.integer) refuse("an integer mask");
      const auto lead = static_cast<int>(rank - m.shape.size());
      if (m.batch_axis >= 0 && (m.batch_axis + lead != batch || m.batch_outer != q.batch_outer ||
                                m.batch_inner != q.batch_inner)) {
        refuse("the mask's batch is elsewhere");
      }
      if (m.batch_axis < 0 && batch >= lead && m.shape[static_cast<size_t>(batch - lead)] != 1) {
        refuse("a mask of fixed size along the batch");
      }
      from.push_back(m);
    }
  }
  auto layer = std::make_unique<nn::ScaledDotProductAttention>(o);
  if (constant_mask.defined()) layer->mask().copy_from(constant_mask);
  Value out;
  try {
    out = c.add(std::move(layer), from);
  } catch (const Error& e) {
    refuse(e.what());
  }
  out.batch_axis = batch;
  keep_folds(out, q);
  c.set_output(0, out);
}

// A whole self-attention block (fuse_attention_blocks) onto MultiHeadAttention,
// its weights carried by the fused node.
void multi_head_attention(Context& c) {
  const Value& x = c.input(0);
  if (x.is_constant() || x.integer || x.shape.size() != 3 || x.batch_axis != 0 ||
      x.batch_merged()) {
    throw NotFusable{"the input is not (batch, length, embedding)"};
  }
  const int64_t heads = c.integer("num_heads", 0);
  auto m = std::make_unique<nn::MultiHeadAttention>(nn::MultiHeadAttentionOptions{
      .embed_dim = x.shape[2], .num_heads = heads, .causal = c.integer("causal", 0) != 0});
  std::vector<nn::Parameter> params;
  m->own_parameters(params);
  for (auto& p : params) copy_into(*p.value, c.tensor(p.name), c, p.name.c_str());
  Value out = c.add(std::move(m), {x});
  out.batch_axis = 0;
  c.set_output(0, out);
}

}  // namespace bdl::onnx::convert
