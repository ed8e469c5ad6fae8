// The `bdl` command: parses flags and dispatches to bdl::cli. Every failure is one
// line on stderr and a non-zero exit code.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>

#include "bdl/cli/commands.h"
#include "bdl/core/error.h"
#include "bdl/data/image_transform.h"
#include "bdl/models/zoo.h"
#include "bdl/nn/losses/by_name.h"
#include "bdl/optim/metrics.h"

namespace {

// Every command's flags, bound to the arguments of bdl::cli's functions.
struct Commands {
  bdl::cli::TrainArgs train;
  bdl::cli::PredictArgs predict;
  bdl::cli::EvalArgs eval;
  bdl::cli::InfoArgs info;
  bdl::cli::ImportArgs import_args;
  bdl::cli::ExportArgs export_args;
  bdl::cli::SplitArgs split;
  bdl::cli::ConvertArgs convert;
  CLI::App *train_cmd, *predict_cmd, *eval_cmd, *info_cmd, *import_cmd, *export_cmd, *split_cmd,
      *convert_cmd;
};

// A seed is an integer from 0 to 2^64 - 1: "-1" would otherwise wrap around.
CLI::Validator seed_check() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        bool ok = !text.empty() && text.size() <= 20 &&
                  text.find_first_not_of("0123456789") == std::string::npos;
        if (ok) {
          try {
            std::stoull(text);
          } catch (const std::exception&) {
            ok = false;
          }
        }
        return ok ? "" : "must be an integer from 0 to 18446744073709551615, got " + text;
      },
      "UINT64");
}

// The model, the data, the loss and the metrics.
void add_model_and_data_flags(CLI::App* cmd, bdl::cli::TrainArgs& train) {
  bdl::job::TrainSpec& spec = train.spec;
  std::string model_names;
  for (const auto& n : bdl::models::names()) model_names += (model_names.empty() ? "" : ", ") + n;
  cmd->add_option("--model", spec.model.name,
                  "Model: " + model_names + ", or a model file (.bdl, .onnx) to train further")
      ->capture_default_str();
  cmd->add_option("--data", spec.data.source,
                  "fashion-mnist, a directory of IDX files, a partitioned directory (bdl split), "
                  "a NumPy directory ({train,test}-{features,targets,weights}.npy), record "
                  "shards ({train,test}/part-*.tfrecord: bdl convert) or a glob of record files "
                  "('/data/part-*.tfrecord'), streamed, an image folder "
                  "(a sub-folder of JPEG/PNG files per class; DIR/train and DIR/test or DIR/val) "
                  "or a table (FILE.csv, FILE.tsv)")
      ->capture_default_str();
  cmd->add_option("--label-column", spec.data.label_column,
                  "Tables (FILE.csv, FILE.tsv, or DIR with train.csv and test.csv): the label");
  cmd->add_option("--feature-columns", spec.data.feature_columns,
                  "Tables: the feature columns, comma-separated (default: all but the label)")
      ->delimiter(',');
  cmd->add_option("--missing", spec.data.missing,
                  "Tables: a missing feature value is an error, or filled with zero or the "
                  "column's mean")
      ->check(CLI::IsMember({"error", "zero", "mean"}))
      ->capture_default_str();
  cmd->add_flag("--standardize", spec.data.standardize,
                "Tables: numeric features to mean 0 and deviation 1 (the training file's "
                "statistics, applied to the test file too)");
  cmd->add_flag("--one-hot", spec.data.one_hot,
                "Tables: text columns as one-hot columns (one per category of the training "
                "file) instead of category indices");
  cmd->add_option("--class-weight", spec.data.class_weight,
                  "Weigh training samples by class: balanced, or CLASS:WEIGHT,... (others 1)");
  cmd->add_flag("--skip-bad-records", spec.data.skip_bad_records,
                "Record shards and image folders: skip damaged records and images that do not "
                "decode, and count them in the report, instead of stopping");
  std::string presets;
  for (const auto& p : bdl::data::augment_presets()) presets += (presets.empty() ? "" : ", ") + p;
  cmd->add_option("--augment", spec.data.augment,
                  "Image folders: the training images' transform: " + presets +
                      " (none: resize and centre crop; flip: and a random horizontal flip; "
                      "standard: random resized crop and flip; strong: and colour jitter)")
      ->check(CLI::IsMember(bdl::data::augment_presets()))
      ->capture_default_str();
  cmd->add_option("--decode-threads", spec.data.decode_threads,
                  "Image folders: threads that decode and transform images ahead of training")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  cmd->add_option("--loss", spec.loss, bdl::nn::criterion_names())->capture_default_str();
  cmd->add_option("--metrics", spec.metrics,
                  "Validation metrics, comma-separated: " + bdl::optim::metric_names())
      ->delimiter(',');
}

// The end, the batch, the optimisation method and its schedule.
void add_method_flags(CLI::App* cmd, bdl::cli::TrainArgs& train) {
  bdl::job::TrainSpec& spec = train.spec;
  cmd->add_option("--epochs", spec.epochs, "Epochs to train")->capture_default_str();
  cmd->add_option("--batch-size", spec.batch_size, "Mini-batch size (global)")
      ->capture_default_str();
  cmd->add_option("--lr", spec.optimizer.lr, "Learning rate")->capture_default_str();
  cmd->add_option("--momentum", spec.optimizer.momentum, "Momentum of SGD and LARS")
      ->capture_default_str();
  cmd->add_option("--optimizer", spec.optimizer.name, "sgd, adam, adamw, adagrad, rmsprop or lars")
      ->capture_default_str();
  cmd->add_option("--weight-decay", spec.optimizer.weight_decay, "Weight decay")
      ->capture_default_str();
  cmd->add_option("--trust-coefficient", spec.optimizer.trust_coefficient, "LARS's eta")
      ->capture_default_str();
  cmd->add_option("--schedule", spec.optimizer.schedule,
                  "Learning-rate schedule after the warm-up: none, step:EPOCHS:GAMMA, "
                  "multistep:E1,E2,...:GAMMA, exp:GAMMA, poly:POWER, cosine, "
                  "plateau:FACTOR:PATIENCE")
      ->capture_default_str();
  cmd->add_option("--warmup-epochs", spec.optimizer.warmup_epochs,
                  "Linear warm-up over this many epochs, per iteration, from lr/10");
  cmd->add_option("--scale-lr-from", spec.optimizer.scale_lr_from,
                  "Linear scaling rule: lr * batch-size / this reference batch size");
}

// Precision, synthetic data, seeds, threads, limits, report and progress.
void add_run_flags(CLI::App* cmd, bdl::cli::TrainArgs& train) {
  bdl::job::TrainSpec& spec = train.spec;
  cmd->add_option("--precision", spec.precision,
                  "fp32, or bf16: convolutions in bf16 with fp32 accumulation and master weights")
      ->capture_default_str();
  cmd->add_flag("--synthetic", train.synthetic,
                "Train on random data of the model's input shape (benchmarks)");
  cmd->add_option("--image-size", spec.model.image_size,
                  "Zoo models: the input images' height and width (synthetic data, image folders)");
  cmd->add_option("--classes", spec.model.classes,
                  "Zoo models: the outputs (default: the data's classes; with synthetic data, "
                  "the model's own default)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 24));
  cmd->add_option("--synthetic-samples", spec.data.synthetic_samples,
                  "Synthetic samples (default: 8 batches, at least 256)");
  cmd->add_option("--seed", spec.seed, "Seed of initialisation and shuffling")
      ->capture_default_str()
      ->check(seed_check());
  cmd->add_option("--threads", spec.threads, "Kernel threads (0: one per core)")
      ->capture_default_str();
  cmd->add_option("--max-iteration", spec.max_iterations, "Stop after N iterations");
  cmd->add_option("--train-samples", spec.data.train_samples, "Use the first N training samples");
  cmd->add_option("--test-samples", spec.data.validation_samples, "Use the first N test samples");
}

// Sync, checkpoints and the saved model.
void add_distribution_flags(CLI::App* cmd, bdl::cli::TrainArgs& train) {
  bdl::job::TrainSpec& spec = train.spec;
  cmd->add_option("--report", train.report, "Write a JSON report to this file");
  cmd->add_option("--progress", spec.progress, "auto, bar, lines or quiet")->capture_default_str();
  cmd->add_option("--sync", spec.sync.strategy, "Under MPI: sharded, allreduce or driver")
      ->capture_default_str();
  cmd->add_option("--compress", spec.sync.compress, "Wire format of the sync: none, fp16, bf16")
      ->capture_default_str();
  cmd->add_option("--sync-every", spec.sync.every,
                  "Iterations between group boundaries (metrics, progress)")
      ->capture_default_str();
  cmd->add_option("--comm-timeout-ms", spec.sync.timeout_ms,
                  "A peer silent this long is reported lost")
      ->capture_default_str();
  cmd->add_option("--checkpoint", spec.checkpoint.dir,
                  "Write checkpoints to this directory (every epoch and at the end)");
  cmd->add_option("--checkpoint-every", spec.checkpoint.every,
                  "Checkpoint every N iterations instead of every epoch");
  cmd->add_option("--checkpoint-keep", spec.checkpoint.keep, "Checkpoints to keep")
      ->capture_default_str();
  cmd->add_flag("--resume", spec.checkpoint.resume,
                "Continue from the newest checkpoint in --checkpoint DIR (none there: start "
                "afresh; none usable: an error)");
  cmd->add_flag("--fresh-if-unusable", spec.checkpoint.fresh_if_unusable,
                "With --resume: start afresh when no checkpoint in DIR can be used");
  cmd->add_option("--save", spec.save, "Save the trained model to this file (.bdl)");
  cmd->add_option("--summary", spec.summary.dir,
                  "Write TensorBoard summaries to this directory (train/ and validation/)");
  cmd->add_option("--summary-every", spec.summary.every,
                  "Iterations between the per-iteration scalars of --summary")
      ->capture_default_str();
  cmd->add_flag("--summary-histograms", spec.summary.histograms,
                "With --summary: histograms of weights and gradients at each epoch's end");
}

// bdl predict.
void add_predict(CLI::App& app, Commands& c) {
  c.predict_cmd = app.add_subcommand("predict", "Run a saved model on an array or a dataset");
  c.predict_cmd->add_option("--model", c.predict.model, "Model file (.bdl or .onnx)")->required();
  c.predict_cmd->add_option("--input", c.predict.input,
                            "Input batch as a NumPy .npy file (f32 or i64)");
  c.predict_cmd->add_option("--output", c.predict.output, "Write the outputs to this .npy file");
  c.predict_cmd->add_option("--data", c.predict.data,
                            "Or a dataset (fashion-mnist or a directory of IDX files): its test "
                            "split, one line per sample");
  c.predict_cmd->add_option("--top-k", c.predict.top_k, "Classes per sample with --data")
      ->capture_default_str();
  c.predict_cmd->add_option("--limit", c.predict.limit, "Only the first N samples of --data");
  c.predict_cmd->add_option("--batch-size", c.predict.batch_size, "Samples per forward pass")
      ->capture_default_str();
  c.predict_cmd->add_option("--threads", c.predict.threads, "Kernel threads (0: one per core)");
}

// bdl eval.
void add_eval(CLI::App& app, Commands& c) {
  c.eval_cmd = app.add_subcommand("eval", "Accuracy and loss of a saved model on a dataset");
  c.eval_cmd->add_option("--model", c.eval.model, "Model file (.bdl or .onnx)")->required();
  c.eval_cmd
      ->add_option("--data", c.eval.data,
                   "fashion-mnist, a directory of IDX files, a NumPy directory or record shards")
      ->capture_default_str();
  c.eval_cmd->add_option("--batch-size", c.eval.batch_size, "Samples per forward pass")
      ->capture_default_str();
  c.eval_cmd->add_option("--limit", c.eval.limit, "Only the first N test samples");
  c.eval_cmd->add_option("--loss", c.eval.loss, bdl::nn::criterion_names())->capture_default_str();
  c.eval_cmd
      ->add_option("--metrics", c.eval.metrics,
                   "Metrics, comma-separated (default top1,top5): " + bdl::optim::metric_names())
      ->delimiter(',');
  c.eval_cmd->add_option("--threads", c.eval.threads, "Kernel threads (0: one per core)");
}

// bdl info.
void add_info(CLI::App& app, Commands& c) {
  c.info_cmd =
      app.add_subcommand("info", "Version, kernel ISA, threads; a model's layers; a dataset");
  c.info_cmd->add_option("--model", c.info.model,
                         "Print the layer table of a zoo model or a model file");
  c.info_cmd->add_option("--data", c.info.data,
                         "Describe a dataset: count, shapes, classes, bytes of each split");
  c.info_cmd->add_option("--threads", c.info.threads, "Kernel threads (0: one per core)");
  c.info_cmd->add_option("--image-size", c.info.image_size,
                         "Input height and width for image models");
}

// bdl import.
void add_import(CLI::App& app, Commands& c) {
  c.import_cmd =
      app.add_subcommand("import", "Convert an ONNX or Keras (.keras, .h5) model to bdl's format");
  c.import_cmd->add_option("input", c.import_args.input, "ONNX model (.onnx)")->required();
  c.import_cmd->add_option("-o,--output", c.import_args.output, "bdl model file to write")
      ->required();
}

// bdl export.
void add_export(CLI::App& app, Commands& c) {
  c.export_cmd = app.add_subcommand("export", "Write a bdl model as ONNX");
  c.export_cmd->add_option("model", c.export_args.model, "bdl model file")->required();
  c.export_cmd->add_option("-o,--output", c.export_args.output, "ONNX file to write")->required();
  c.export_cmd
      ->add_option("--input-shape", c.export_args.input_shape,
                   "One sample's shape, e.g. 3,224,224 (default: recorded in the file)")
      ->delimiter(',');
}

// bdl split.
void add_split(CLI::App& app, Commands& c) {
  c.split_cmd = app.add_subcommand(
      "split", "Write a dataset as a directory of partitions, one set per worker");
  c.split_cmd->add_option("--data", c.split.data, "fashion-mnist, or a directory of IDX files")
      ->capture_default_str();
  c.split_cmd->add_option("--parts", c.split.parts, "Number of parts")->capture_default_str();
  c.split_cmd->add_option("-o,--output", c.split.output, "Directory to write")->required();
}

// bdl convert.
void add_convert(CLI::App& app, Commands& c) {
  c.convert_cmd = app.add_subcommand(
      "convert", "Write a dataset as TFRecord shards of tf.train.Example records");
  c.convert_cmd
      ->add_option("--data", c.convert.data,
                   "fashion-mnist, a directory of IDX files, a NumPy directory, a table "
                   "(FILE.csv, FILE.tsv, or DIR with train.csv and test.csv) or an image folder")
      ->capture_default_str();
  c.convert_cmd->add_option("--label-column", c.convert.label_column, "Tables: the label");
  c.convert_cmd
      ->add_option("--feature-columns", c.convert.feature_columns,
                   "Tables: the feature columns, comma-separated (default: all but the label)")
      ->delimiter(',');
  c.convert_cmd
      ->add_option("--missing", c.convert.missing,
                   "Tables: a missing value is an error, or filled with zero or the mean")
      ->check(CLI::IsMember({"error", "zero", "mean"}))
      ->capture_default_str();
  c.convert_cmd->add_flag("--standardize", c.convert.standardize,
                          "Tables: numeric features to mean 0 and deviation 1");
  c.convert_cmd->add_flag("--one-hot", c.convert.one_hot,
                          "Tables: text columns as one-hot columns instead of indices");
  c.convert_cmd
      ->add_option("--image-size", c.convert.image_size,
                   "Image folders: samples of this height and width (each image resized so "
                   "that its short side fills them, then its centre), stored as bytes")
      ->capture_default_str();
  c.convert_cmd->add_option("--channels", c.convert.channels, "Image folders: 3 (RGB) or 1 (grey)")
      ->capture_default_str();
  c.convert_cmd->add_option("--shards", c.convert.shards,
                            "Shards per split (default: from --shard-size)");
  c.convert_cmd->add_option("--shard-size", c.convert.shard_size, "About this many bytes per shard")
      ->capture_default_str();
  c.convert_cmd->add_option("-o,--output", c.convert.output, "Directory to write")->required();
}

int run(const Commands& c) {
  if (*c.train_cmd) return bdl::cli::run_train(c.train, std::cout);
  if (*c.info_cmd) return bdl::cli::run_info(c.info, std::cout);
  if (*c.split_cmd) return bdl::cli::run_split(c.split, std::cout);
  if (*c.convert_cmd) return bdl::cli::run_convert(c.convert, std::cout);
  if (*c.predict_cmd) return bdl::cli::run_predict(c.predict, std::cout);
  if (*c.eval_cmd) return bdl::cli::run_eval(c.eval, std::cout);
  if (*c.import_cmd) return bdl::cli::run_import(c.import_args, std::cout);
  if (*c.export_cmd) return bdl::cli::run_export(c.export_args, std::cout);
  return 0;
}

int parse_and_run(int argc, char** argv) {
  CLI::App app{"bdl: data-parallel deep learning on CPU clusters"};
  app.require_subcommand(1);
  app.set_version_flag("--version", BDL_VERSION);
  Commands c;
  c.train_cmd = app.add_subcommand("train", "Train a model");
  add_model_and_data_flags(c.train_cmd, c.train);
  add_method_flags(c.train_cmd, c.train);
  add_run_flags(c.train_cmd, c.train);
  add_distribution_flags(c.train_cmd, c.train);
  add_predict(app, c);
  add_eval(app, c);
  add_info(app, c);
  add_import(app, c);
  add_export(app, c);
  const std::string first = argc > 1 ? argv[1] : "";
  const std::vector<std::string> commands = {"train", "predict", "eval",   "info",
                                             "split", "convert", "import", "export"};
  if (!first.empty() && first[0] != '-' &&
      std::find(commands.begin(), commands.end(), first) == commands.end()) {
    std::cerr << "bdl: error: unknown command '" << argv[1]
              << "' (commands: train, predict, eval, info, split, convert, import, export)\n";
    return 2;
  }
  add_split(app, c);
  add_convert(app, c);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "bdl: error: " << e.what() << "\n";
    return 2;
  }
  return run(c);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return parse_and_run(argc, argv);
  } catch (const bdl::Error& e) {
    std::cerr << "bdl: error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "bdl: internal error: " << e.what() << "\n";
    return 3;
  }
}
