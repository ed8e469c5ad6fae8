// bdl info: the library's build and machine; with --model, a layer table.
#include <ostream>

#include "bdl/cli/commands.h"
#include "bdl/core/threads.h"
#include "bdl/core/version.h"
#include "bdl/job/model_source.h"
#include "bdl/job/summary.h"
#include "bdl/kernels/backend.h"

namespace bdl::cli {

int run_info(const InfoArgs& args, std::ostream& out) {
  validate(args);
  set_num_threads(args.threads, "--threads");
  out << "bdl " << version() << "\n"
      << "kernels: " << kernels::backend_version() << ", ISA " << kernels::backend_isa() << "\n"
      << "threads: " << num_threads() << "\n";
  if (args.model.empty()) return 0;
  job::ModelSpec spec;
  spec.name = args.model;
  spec.image_size = args.image_size;
  const job::Model model = job::build_model(spec);
  BDL_CHECK(!model.sample_shape.empty(), args.model,
            ": the file does not record the input shape, so no layer table can be computed");
  Shape input = model.sample_shape;
  input.insert(input.begin(), 1);
  out << "\nmodel " << model.name << ": " << model.description << ", input " << shape_str(input)
      << "\n"
      << job::format_summary(*model.module, input);
  return 0;
}

}  // namespace bdl::cli
