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
  BDL_CHECK(args.threads >= 0 && args.threads <= 1024,
            "--threads: must be 0 (all cores) to 1024, got ", args.threads);
  set_num_threads(args.threads);
  out << "bdl " << version() << "\n"
      << "kernels: " << kernels::backend_version() << ", ISA " << kernels::backend_isa() << "\n"
      << "threads: " << num_threads() << "\n";
  if (args.model.empty()) return 0;
  job::ModelSpec spec;
  spec.name = args.model;
  if (args.image_size) {
    BDL_CHECK(*args.image_size >= 8 && *args.image_size <= 4096,
              "--image-size: must be between 8 and 4096, got ", *args.image_size);
    BDL_CHECK(!job::is_model_file(args.model), "--image-size: not with a model file (", args.model,
              ")");
    spec.image_size = args.image_size;
  }
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
