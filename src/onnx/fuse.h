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
#include <string>
#include <vector>

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
};

// With `enabled` false, every node as it is.
FusedGraph fuse_patterns(const ::onnx::GraphProto& g, int64_t opset, bool enabled = true);

}  // namespace bdl::onnx
