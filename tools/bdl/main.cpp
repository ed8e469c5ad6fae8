// The `bdl` command: parses flags and dispatches to bdl::cli. Every failure is one
// line on stderr and a non-zero exit code.
#include <CLI/CLI.hpp>
#include <iostream>

#include "bdl/cli/commands.h"
#include "bdl/core/error.h"
#include "bdl/models/zoo.h"
#include "bdl/nn/losses.h"
#include "bdl/optim/metrics.h"

int main(int argc, char** argv) {
  CLI::App app{"bdl: data-parallel deep learning on CPU clusters"};
  app.require_subcommand(1);
  app.set_version_flag("--version", BDL_VERSION);

  bdl::cli::TrainArgs train;
  bdl::job::TrainSpec& spec = train.spec;
  auto* train_cmd = app.add_subcommand("train", "Train a model");
  std::string model_names;
  for (const auto& n : bdl::models::names()) model_names += (model_names.empty() ? "" : ", ") + n;
  train_cmd
      ->add_option("--model", spec.model.name,
                   "Model: " + model_names + ", or a model file (.bdl, .onnx) to train further")
      ->capture_default_str();
  train_cmd
      ->add_option("--data", spec.data.source,
                   "fashion-mnist, a directory of IDX files, a partitioned directory (bdl split) "
                   "or a NumPy directory ({train,test}-{features,targets,weights}.npy)")
      ->capture_default_str();
  train_cmd->add_option("--loss", spec.loss, bdl::nn::criterion_names())->capture_default_str();
  train_cmd
      ->add_option("--metrics", spec.metrics,
                   "Validation metrics, comma-separated: " + bdl::optim::metric_names())
      ->delimiter(',');
  train_cmd->add_option("--epochs", spec.epochs, "Epochs to train")->capture_default_str();
  train_cmd->add_option("--batch-size", spec.batch_size, "Mini-batch size (global)")
      ->capture_default_str();
  train_cmd->add_option("--lr", spec.optimizer.lr, "Learning rate")->capture_default_str();
  train_cmd->add_option("--momentum", spec.optimizer.momentum, "Momentum of SGD and LARS")
      ->capture_default_str();
  train_cmd
      ->add_option("--optimizer", spec.optimizer.name, "sgd, adam, adamw, adagrad, rmsprop or lars")
      ->capture_default_str();
  train_cmd->add_option("--weight-decay", spec.optimizer.weight_decay, "Weight decay")
      ->capture_default_str();
  train_cmd->add_option("--trust-coefficient", spec.optimizer.trust_coefficient, "LARS's eta")
      ->capture_default_str();
  train_cmd
      ->add_option("--schedule", spec.optimizer.schedule,
                   "Learning-rate schedule after the warm-up: none, step:EPOCHS:GAMMA, "
                   "multistep:E1,E2,...:GAMMA, exp:GAMMA, poly:POWER, cosine, "
                   "plateau:FACTOR:PATIENCE")
      ->capture_default_str();
  train_cmd->add_option("--warmup-epochs", spec.optimizer.warmup_epochs,
                        "Linear warm-up over this many epochs, per iteration, from lr/10");
  train_cmd->add_option("--scale-lr-from", spec.optimizer.scale_lr_from,
                        "Linear scaling rule: lr * batch-size / this reference batch size");
  train_cmd
      ->add_option("--precision", spec.precision,
                   "fp32, or bf16: convolutions in bf16 with fp32 accumulation and master weights")
      ->capture_default_str();
  train_cmd->add_flag("--synthetic", train.synthetic,
                      "Train on random data of the model's input shape (benchmarks)");
  train_cmd->add_option("--image-size", spec.model.image_size, "Synthetic image height and width");
  train_cmd->add_option("--synthetic-samples", spec.data.synthetic_samples,
                        "Synthetic samples (default: 8 batches, at least 256)");
  train_cmd->add_option("--seed", spec.seed, "Seed of initialisation and shuffling")
      ->capture_default_str();
  train_cmd->add_option("--threads", spec.threads, "Kernel threads (0: one per core)")
      ->capture_default_str();
  train_cmd->add_option("--max-iteration", spec.max_iterations, "Stop after N iterations");
  train_cmd->add_option("--train-samples", spec.data.train_samples,
                        "Use the first N training samples");
  train_cmd->add_option("--test-samples", spec.data.validation_samples,
                        "Use the first N test samples");
  train_cmd->add_option("--report", train.report, "Write a JSON report to this file");
  train_cmd->add_option("--progress", spec.progress, "auto, bar, lines or quiet")
      ->capture_default_str();
  train_cmd->add_option("--sync", spec.sync.strategy, "Under MPI: sharded, allreduce or driver")
      ->capture_default_str();
  train_cmd
      ->add_option("--compress", spec.sync.compress, "Wire format of the sync: none, fp16, bf16")
      ->capture_default_str();
  train_cmd
      ->add_option("--sync-every", spec.sync.every,
                   "Iterations between group boundaries (metrics, progress)")
      ->capture_default_str();
  train_cmd
      ->add_option("--comm-timeout-ms", spec.sync.timeout_ms,
                   "A peer silent this long is reported lost")
      ->capture_default_str();
  train_cmd->add_option("--checkpoint", spec.checkpoint.dir,
                        "Write checkpoints to this directory (every epoch and at the end)");
  train_cmd->add_option("--checkpoint-every", spec.checkpoint.every,
                        "Checkpoint every N iterations instead of every epoch");
  train_cmd->add_option("--checkpoint-keep", spec.checkpoint.keep, "Checkpoints to keep")
      ->capture_default_str();
  train_cmd->add_flag("--resume", spec.checkpoint.resume,
                      "Continue from the newest checkpoint in --checkpoint DIR");
  train_cmd->add_option("--save", spec.save, "Save the trained model to this file (.bdl)");

  bdl::cli::PredictArgs predict;
  auto* predict_cmd = app.add_subcommand("predict", "Run a saved model on an array or a dataset");
  predict_cmd->add_option("--model", predict.model, "Model file (.bdl or .onnx)")->required();
  predict_cmd->add_option("--input", predict.input,
                          "Input batch as a NumPy .npy file (f32 or i64)");
  predict_cmd->add_option("--output", predict.output, "Write the outputs to this .npy file");
  predict_cmd->add_option("--data", predict.data,
                          "Or a dataset (fashion-mnist or a directory of IDX files): its test "
                          "split, one line per sample");
  predict_cmd->add_option("--top-k", predict.top_k, "Classes per sample with --data")
      ->capture_default_str();
  predict_cmd->add_option("--limit", predict.limit, "Only the first N samples of --data");
  predict_cmd->add_option("--batch-size", predict.batch_size, "Samples per forward pass")
      ->capture_default_str();
  predict_cmd->add_option("--threads", predict.threads, "Kernel threads (0: one per core)");

  bdl::cli::EvalArgs eval;
  auto* eval_cmd = app.add_subcommand("eval", "Accuracy and loss of a saved model on a dataset");
  eval_cmd->add_option("--model", eval.model, "Model file (.bdl or .onnx)")->required();
  eval_cmd
      ->add_option("--data", eval.data,
                   "fashion-mnist, a directory of IDX files or a NumPy directory")
      ->capture_default_str();
  eval_cmd->add_option("--batch-size", eval.batch_size, "Samples per forward pass")
      ->capture_default_str();
  eval_cmd->add_option("--limit", eval.limit, "Only the first N test samples");
  eval_cmd->add_option("--loss", eval.loss, bdl::nn::criterion_names())->capture_default_str();
  eval_cmd
      ->add_option("--metrics", eval.metrics,
                   "Metrics, comma-separated (default top1,top5): " + bdl::optim::metric_names())
      ->delimiter(',');
  eval_cmd->add_option("--threads", eval.threads, "Kernel threads (0: one per core)");

  bdl::cli::InfoArgs info;
  auto* info_cmd = app.add_subcommand("info", "Version, kernel ISA, threads; a model's layers");
  info_cmd->add_option("--model", info.model,
                       "Print the layer table of a zoo model or a model file");
  info_cmd->add_option("--threads", info.threads, "Kernel threads (0: one per core)");
  info_cmd->add_option("--image-size", info.image_size, "Input height and width for image models");

  bdl::cli::ImportArgs import_args;
  auto* import_cmd = app.add_subcommand("import", "Convert an ONNX model to bdl's format");
  import_cmd->add_option("input", import_args.input, "ONNX model (.onnx)")->required();
  import_cmd->add_option("-o,--output", import_args.output, "bdl model file to write")->required();

  bdl::cli::ExportArgs export_args;
  auto* export_cmd = app.add_subcommand("export", "Write a bdl model as ONNX");
  export_cmd->add_option("model", export_args.model, "bdl model file")->required();
  export_cmd->add_option("-o,--output", export_args.output, "ONNX file to write")->required();
  export_cmd
      ->add_option("--input-shape", export_args.input_shape,
                   "One sample's shape, e.g. 3,224,224 (default: recorded in the file)")
      ->delimiter(',');

  const std::string first = argc > 1 ? argv[1] : "";
  if (!first.empty() && first[0] != '-' && first != "train" && first != "info" &&
      first != "split" && first != "predict" && first != "eval" && first != "import" &&
      first != "export") {
    std::cerr << "bdl: error: unknown command '" << argv[1]
              << "' (commands: train, predict, eval, info, split, import, export)\n";
    return 2;
  }
  bdl::cli::SplitArgs split;
  auto* split_cmd = app.add_subcommand(
      "split", "Write a dataset as a directory of partitions, one set per worker");
  split_cmd->add_option("--data", split.data, "fashion-mnist, or a directory of IDX files")
      ->capture_default_str();
  split_cmd->add_option("--parts", split.parts, "Number of parts")->capture_default_str();
  split_cmd->add_option("-o,--output", split.output, "Directory to write")->required();

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
  try {
    if (*train_cmd) return bdl::cli::run_train(train, std::cout);
    if (*info_cmd) return bdl::cli::run_info(info, std::cout);
    if (*split_cmd) return bdl::cli::run_split(split, std::cout);
    if (*predict_cmd) return bdl::cli::run_predict(predict, std::cout);
    if (*eval_cmd) return bdl::cli::run_eval(eval, std::cout);
    if (*import_cmd) return bdl::cli::run_import(import_args, std::cout);
    if (*export_cmd) return bdl::cli::run_export(export_args, std::cout);
  } catch (const bdl::Error& e) {
    std::cerr << "bdl: error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "bdl: internal error: " << e.what() << "\n";
    return 3;
  }
  return 0;
}
