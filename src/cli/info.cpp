#include <ostream>

#include "bdl/cli/commands.h"
#include "bdl/core/threads.h"
#include "bdl/kernels/backend.h"
#include "bdl/models/zoo.h"
#include "bdl/nn/module.h"

namespace bdl::cli {

int run_info(const InfoArgs& args, std::ostream& out) {
  set_num_threads(args.threads);
  out << "bdl " << BDL_VERSION << "\n"
      << "kernels: " << kernels::backend_version() << ", ISA " << kernels::backend_isa() << "\n"
      << "threads: " << num_threads() << "\n";
  if (args.model.empty()) return 0;
  auto model = models::make(args.model);
  out << "\nmodel " << args.model << "\n";
  Shape shape{1, 1, 28, 28};
  int64_t total = 0;
  for (nn::Module* layer : model->children()) {
    shape = layer->output_shape(shape);
    int64_t count = 0;
    std::vector<nn::Parameter> params;
    layer->own_parameters(params);
    for (const auto& p : params) count += p.value->numel();
    total += count;
    char line[200];
    std::snprintf(line, sizeof line, "  %-10s %-34s %-18s %10lld\n", layer->label().c_str(),
                  layer->describe().c_str(), shape_str(shape).c_str(),
                  static_cast<long long>(count));
    out << line;
  }
  out << "  parameters: " << total << "\n";
  return 0;
}

}  // namespace bdl::cli
