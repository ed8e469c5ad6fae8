#pragma once

// Before conversion, the arithmetic that exporters write for a few layers is
// recognised and replaced by one node each, which converts to bdl's native
// layer: the Erf form of GELU, LayerNorm's opset-13 decomposition (ReduceMean,
// Sub, Pow, ReduceMean, Add, Sqrt, Div, Mul, Add), and attention's core
// (MatMul, scaling, an additive mask, Softmax, MatMul), in the forms PyTorch's
// TorchScript and dynamo exporters write. A fused node keeps its original
// nodes: when the shapes met at conversion do not fit the native layer, the
// originals are converted instead (the result is the same, only slower).
#include <onnx/onnx_pb.h>

#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "onnx/context.h"

namespace bdl::onnx {

// The domain of the nodes fuse_patterns makes (never read from a file: the
// importer refuses operators outside ONNX's own domain before fusing).
inline constexpr const char* kFusedDomain = "bdl.fused";

// Thrown by a fused node's converter when the native layer does not fit.
struct NotFusable {
  std::string reason;
};

struct FusedGraph {
  struct Step {
    const ::onnx::NodeProto* node;
    std::vector<const ::onnx::NodeProto*> originals;  // empty for a node of the file
  };
  std::vector<Step> steps;             // in an order that computes every input first
  std::deque<::onnx::NodeProto> made;  // the fused nodes
  std::map<std::string, int> counts;   // fused nodes by operator
  // The fused nodes that conversion kept on their native layers.
  std::set<const ::onnx::NodeProto*> kept;
};

// With `enabled` false, every node as it is.
FusedGraph fuse_patterns(const ::onnx::GraphProto& g, int64_t opset, bool enabled = true);

// The second pass, once the graph has been converted with the patterns above
// and every value's shape is known: whole self-attention blocks around each
// kept ScaledDotProductAttention (the input projections, the head split, the
// core, the head join and the output projection, packed as in
// nn.MultiheadAttention or separate as in HuggingFace's models) onto one
// MultiHeadAttention. The reshapes and transposes between are checked by
// running them on element indices at the batch size plus one (where a layout
// that only holds for one sample would show). Returns the steps with the blocks
// in place of their nodes, or nothing when there is no block.
std::optional<FusedGraph> fuse_attention_blocks(const ::onnx::GraphProto& g,
                                                const FusedGraph& first,
                                                const std::map<std::string, Value>& values,
                                                int64_t opset);

}  // namespace bdl::onnx
