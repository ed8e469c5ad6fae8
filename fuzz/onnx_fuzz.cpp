// libFuzzer target: bdl::onnx::import_model on arbitrary bytes, then one forward
// pass of what imports on a zero input. Any input must import or throw
// bdl::Error; a crash, a sanitizer report, a leak or a hang is a bug. See
// fuzz/README.md.
#include <cstdint>
#include <span>

#include "bdl/onnx/import.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto m = bdl::onnx::import_model(std::as_bytes(std::span(data, size)), "fuzz.onnx");
    // Activations of a corrupt model can be as large as its shapes say: the pass
    // runs under a budget, which turns a huge one into an error.
    bdl::AllocationBudget budget(size_t{64} << 20, "fuzz forward");
    std::vector<bdl::Tensor> inputs;
    std::vector<const bdl::Tensor*> ptrs;
    for (const auto& shape : m.input_shapes) inputs.emplace_back(shape);
    for (const auto& t : inputs) ptrs.push_back(&t);
    m.graph->eval();
    (void)m.graph->forward_many(ptrs);
    (void)m.graph->describe();
  } catch (const bdl::Error&) {
  }
  return 0;
}
