// bdl info: the library's build and machine; with --model, a layer table.
#include <filesystem>
#include <ostream>

#include "bdl/cli/commands.h"
#include "bdl/core/threads.h"
#include "bdl/core/version.h"
#include "bdl/data/image_folder.h"
#include "bdl/data/record_shards.h"
#include "bdl/job/data_source.h"
#include "bdl/job/model_source.h"
#include "bdl/job/summary.h"
#include "bdl/kernels/backend.h"

namespace bdl::cli {
namespace {

void describe_split(const data::Source& d, const char* split, int64_t bytes, std::ostream& out) {
  out << split << ": " << d.size() << " samples of " << shape_str(d.sample_shape()) << " "
      << dtype_name(d.feature_dtype()) << ", ";
  if (d.target_kind() == data::TargetKind::classes) {
    out << d.num_classes() << " classes";
  } else {
    out << "targets of " << shape_str(d.target_shape());
  }
  if (bytes > 0) out << ", " << bytes / 1000000.0 << " MB";
  out << "\n";
}

// What `bdl train --data` would read: record shards described from their
// MANIFEST (or read through), other sources loaded.
int describe_data(const std::string& source, std::ostream& out) {
  if (data::is_record_shard_dir(source)) {
    for (const data::Split split : {data::Split::train, data::Split::test}) {
      const char* name = split == data::Split::train ? "train" : "test";
      if (!std::filesystem::is_directory(std::filesystem::path(source) / name)) continue;
      const data::ShardsInfo info = data::describe_record_shards(source, split);
      out << name << ": " << info.samples << " samples of " << shape_str(info.sample_shape) << " "
          << info.features << ", ";
      if (info.targets == "classes") {
        out << info.classes << " classes";
      } else {
        out << "targets of [" << info.classes << "]";
      }
      out << (info.weighted ? ", weighted" : "") << ", " << info.shards << " record shards, "
          << info.bytes / 1000000.0 << " MB"
          << (info.from_manifest ? " (from the MANIFEST)" : " (read through)") << "\n";
    }
    return 0;
  }
  if (data::is_image_folder(source)) {
    std::vector<std::string> classes;
    for (const data::Split split : {data::Split::train, data::Split::test}) {
      if (!data::image_split_directory(source, split)) continue;
      const data::ImageFolderInfo info =
          data::describe_image_folder(source, split, classes.empty() ? nullptr : &classes);
      if (classes.empty()) classes = info.classes;
      out << (split == data::Split::train ? "train" : "test") << ": " << info.files.size()
          << " images (JPEG, PNG) in " << info.directory << ", " << info.classes.size()
          << " classes, " << info.bytes / 1000000.0 << " MB; decoded at the model's input size\n"
          << "  per class:";
      for (size_t c = 0; c < info.classes.size(); ++c) {
        if (c == 8 && info.classes.size() > 10) {
          out << " ... (" << info.classes.size() - 9 << " more)";
          c = info.classes.size() - 1;
        }
        out << " " << info.classes[c] << " " << info.class_counts[c];
      }
      out << "\n";
      if (info.ignored > 0) {
        out << "  " << info.ignored << " other files left out (the first: " << info.first_ignored
            << ")\n";
      }
    }
    return 0;
  }
  job::DataSpec spec;
  spec.source = source;
  BDL_CHECK(source != "synthetic", "--data: synthetic data has no description");
  const job::Data d = job::load_data(spec, job::DataNeeds{}, 0, 1);
  describe_split(d.train, "train", 0, out);
  if (d.validation) describe_split(*d.validation, "test", 0, out);
  return 0;
}

}  // namespace

int run_info(const InfoArgs& args, std::ostream& out) {
  validate(args);
  set_num_threads(args.threads, "--threads");
  if (!args.data.empty()) return describe_data(args.data, out);
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
