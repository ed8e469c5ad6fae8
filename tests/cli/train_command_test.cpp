#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "bdl/cli/commands.h"
#include "bdl/core/error.h"
#include "bdl/data/image.h"
#include "bdl/data/npy.h"
#include "bdl/io/model_file.h"
#include "bdl/nn/linear.h"
#include "bdl/nn/reshape.h"
#include "bdl/nn/sequential.h"
#include "bdl/onnx/import.h"
#include "support/temp_dir.h"

namespace bdl::cli {
namespace {

struct CommandResult {
  int exit_code;
  std::string stderr_text;
};

// Runs the built `bdl` binary with the given arguments; captures stderr (and
// stdout with it when `with_stdout`).
CommandResult run_bdl(const std::string& args, bool with_stdout = false) {
  const std::string cmd =
      std::string(BDL_TOOL_PATH) + " " + args + (with_stdout ? " 2>&1" : " 2>&1 1>/dev/null");
  FILE* pipe = popen(cmd.c_str(), "r");
  std::string text;
  std::array<char, 512> buffer{};
  while (fgets(buffer.data(), buffer.size(), pipe)) text += buffer.data();
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, text};
}

std::string error_of(const TrainArgs& args) {
  try {
    validate(args);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(TrainArgs, EachBadValueNamesItsFlag) {
  TrainArgs a;
  a.spec.epochs = 0;
  EXPECT_EQ(error_of(a), "--epochs: must be a positive integer, got 0");
  a = {};
  a.spec.batch_size = -3;
  EXPECT_EQ(error_of(a), "--batch-size: must be a positive integer, got -3");
  a = {};
  a.spec.optimizer.lr = 0;
  EXPECT_EQ(error_of(a), "--lr: must be a positive number, got 0");
  a = {};
  a.spec.optimizer.momentum = 1.5;
  EXPECT_EQ(error_of(a), "--momentum: must be in [0, 1), got 1.5");
  a = {};
  a.spec.threads = -1;
  EXPECT_EQ(error_of(a), "--threads: must be 0 (one per core) to 1024, got -1");
  a = {};
  a.spec.max_iterations = 0;
  EXPECT_EQ(error_of(a), "--max-iteration: must be a positive integer, got 0");
  a = {};
  a.spec.progress = "fancy";
  EXPECT_EQ(error_of(a), "--progress: 'fancy' is not one of auto, bar, lines, quiet");
  a = {};
  a.spec.model.name = "alexnet";
  EXPECT_EQ(error_of(a),
            "unknown model 'alexnet' (known: lenet5, lenet5_bn, mlp, vgg16, vgg16_cifar, resnet18, "
            "resnet18_cifar, resnet50, resnet50_cifar, inception_v1, inception_v1_bn, "
            "lstm_classifier, bert_classifier)");
  a = {};
  a.spec.optimizer.name = "sgdx";
  EXPECT_EQ(error_of(a),
            "--optimizer: 'sgdx' is not one of sgd, adam, adamw, adagrad, rmsprop, lars");
  a = {};
  a.spec.optimizer.schedule = "step:3";
  EXPECT_EQ(
      error_of(a),
      "--schedule: 'step:3' is not one of none, step:EPOCHS:GAMMA, multistep:E1,E2,...:GAMMA, "
      "exp:GAMMA, poly:POWER, cosine, plateau:FACTOR:PATIENCE");
  a = {};
  a.spec.optimizer.schedule = "exp:fast";
  EXPECT_EQ(error_of(a), "--schedule: 'fast' is not a finite number");
  a = {};
  a.spec.precision = "fp8";
  EXPECT_EQ(error_of(a), "--precision: 'fp8' is not one of fp32, bf16");
  a = {};
  a.spec.optimizer.warmup_epochs = 5;
  EXPECT_EQ(error_of(a), "--warmup-epochs: must be in [0, 5), got 5");
  a = {};
  a.spec.model.image_size = 64;
  EXPECT_EQ(error_of(a), "--image-size: only with --synthetic");

  a = {};
  a.report = "/nonexistent/dir/r.json";
  EXPECT_EQ(error_of(a),
            "--report: /nonexistent/dir/r.json: directory /nonexistent/dir does not exist");
}

TEST(BdlCommand, BadInputIsOneLineAndNonZeroExit) {
  const struct {
    std::string args, message;
  } cases[] = {
      {"train --model alexnet",
       "bdl: error: unknown model 'alexnet' (known: lenet5, lenet5_bn, mlp, vgg16, vgg16_cifar, "
       "resnet18, "
       "resnet18_cifar, resnet50, resnet50_cifar, inception_v1, inception_v1_bn, "
       "lstm_classifier, bert_classifier)\n"},
      {"train --model lenet5 --synthetic --image-size 32",
       "bdl: error: --image-size: model lenet5 does not take 32x32 images (fc1: input of shape "
       "[1, 576] does not end in in_features 400)\n"},
      {"train --optimizer lars --trust-coefficient 0",
       "bdl: error: --trust-coefficient: must be a positive number, got 0\n"},
      {"train --epochs abc", "bdl: error: Could not convert: --epochs = abc\n"},
      {"train --batch-size 0", "bdl: error: --batch-size: must be a positive integer, got 0\n"},
      {"train --data /nonexistent", "bdl: error: /nonexistent: not a directory\n"},
      {"train --bogus-flag 1",
       "bdl: error: The following arguments were not expected: 1 --bogus-flag\n"},
      {"frobnicate",
       "bdl: error: unknown command 'frobnicate' (commands: train, predict, eval, info, split, "
       "convert, import, export)\n"},
      {"train --resume", "bdl: error: --resume: needs --checkpoint DIR\n"},
      {"eval --model /nonexistent.bdl", "bdl: error: --model: /nonexistent.bdl: no such file\n"},
      {"predict --model /nonexistent.bdl",
       "bdl: error: predict: give either --input x.npy or --data\n"},
  };
  for (const auto& c : cases) {
    const CommandResult r = run_bdl(c.args);
    EXPECT_NE(r.exit_code, 0) << c.args;
    EXPECT_EQ(r.stderr_text, c.message) << c.args;
  }
}

TEST(BdlCommand, CorruptDataFileIsNamed) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("bdl_cli_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  for (const char* name : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                           "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}) {
    std::ofstream(dir / name) << "not an idx file";
  }
  const CommandResult r = run_bdl("train --data " + dir.string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.stderr_text, "bdl: error: " + (dir / "train-images-idx3-ubyte").string() +
                               ": bad magic number 0x6e6f7420, expected an IDX file (0x00000801 to "
                               "0x000008ff)\n");
  fs::remove_all(dir);
}

TEST(BdlCommand, InfoPrintsVersionIsaAndThreads) {
  const std::string cmd = std::string(BDL_TOOL_PATH) + " info --threads 2 --model lenet5";
  FILE* pipe = popen(cmd.c_str(), "r");
  std::string text;
  std::array<char, 512> buffer{};
  while (fgets(buffer.data(), buffer.size(), pipe)) text += buffer.data();
  EXPECT_EQ(pclose(pipe), 0);
  EXPECT_NE(text.find("kernels: oneDNN"), std::string::npos) << text;
  EXPECT_NE(text.find("ISA "), std::string::npos);
  EXPECT_NE(text.find("threads: 2"), std::string::npos);
  EXPECT_NE(text.find("parameters: 61706"), std::string::npos);
}

TEST(BdlCommand, TrainWritesReportWithRequiredFields) {
  if (!std::filesystem::exists("/usr/share/datasets/fashion-mnist")) {
    GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  }
  const std::string report = (std::filesystem::temp_directory_path() /
                              ("bdl_report_" + std::to_string(::getpid()) + ".json"))
                                 .string();
  const CommandResult r = run_bdl(
      "train --model mlp --epochs 1 --max-iteration 20 --train-samples 4000 "
      "--test-samples 500 --threads 2 --progress quiet --report " +
      report);
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  std::ifstream in(report);
  const auto j = nlohmann::json::parse(in);
  for (const char* key :
       {"test_top1", "test_loss", "train_loss", "train_samples_per_sec", "iterations", "epochs"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["iterations"], 20);
  EXPECT_EQ(j["epochs"], 0);
  EXPECT_GT(j["test_top1"].get<double>(), 0.3);
  std::filesystem::remove(report);
}

// --loss on values meets Fashion-MNIST's class labels as one-hot rows; the
// chosen metrics are reported and printed.
TEST(BdlCommand, TrainsWithAnyLossAndReportsTheChosenMetrics) {
  if (!std::filesystem::exists("/usr/share/datasets/fashion-mnist")) {
    GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  }
  const std::string report = (std::filesystem::temp_directory_path() /
                              ("bdl_loss_" + std::to_string(::getpid()) + ".json"))
                                 .string();
  const CommandResult r = run_bdl(
      "train --model mlp --epochs 1 --train-samples 6000 --test-samples 1000 --threads 2 "
      "--loss bce_with_logits --metrics top1,auc,f1 --optimizer adam --lr 0.001 --progress "
      "quiet --report " +
      report);
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  std::ifstream in(report);
  const auto j = nlohmann::json::parse(in);
  EXPECT_EQ(j["loss"], "bce_with_logits");
  EXPECT_GT(j["test_top1"].get<double>(), 0.6);
  EXPECT_GT(j["test_auc"].get<double>(), 0.9);
  EXPECT_GT(j["test_f1"].get<double>(), 0.3);
  std::filesystem::remove(report);
}

// --summary DIR writes TensorBoard event files for training and validation
// (read back in detail by tests/io/event_file_test.cpp and the Python suite).
TEST(BdlCommand, WritesTensorBoardSummaries) {
  if (!std::filesystem::exists("/usr/share/datasets/fashion-mnist")) {
    GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  }
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("bdl_summary_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const CommandResult r = run_bdl(
      "train --model mlp --epochs 1 --train-samples 2000 --test-samples 500 --threads 2 "
      "--progress quiet --summary-histograms --summary " +
      dir.string());
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  for (const char* part : {"train", "validation"}) {
    int files = 0;
    for (const auto& e : fs::directory_iterator(dir / part)) {
      files += e.path().filename().string().rfind("events.out.tfevents.", 0) == 0 &&
               fs::file_size(e.path()) > 100;
    }
    EXPECT_EQ(files, 1) << part;
  }
  const CommandResult bad = run_bdl("train --model mlp --epochs 1 --summary-histograms");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.stderr_text.find("--summary-histograms: needs --summary DIR"), std::string::npos)
      << bad.stderr_text;
  fs::remove_all(dir);
}

// A NumPy directory with float targets and sample weights trains a model file
// with MSE through the command line, and eval scores it with the same loss.
TEST(BdlCommand, TrainsARegressionFromANumpyDirectory) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("bdl_npy_cli_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  for (const char* split : {"train", "test"}) {
    const int64_t n = std::string(split) == "train" ? 2048 : 512;
    Tensor x({n, 2}), y({n, 1});
    for (int64_t i = 0; i < n; ++i) {
      x.f32()[2 * i] = static_cast<float>(i % 17) / 8.f - 1.f;
      x.f32()[2 * i + 1] = static_cast<float>(i % 13) / 6.f - 1.f;
      y.f32()[i] = 2 * x.f32()[2 * i] - x.f32()[2 * i + 1] + 0.5f;
    }
    data::write_npy(x, (dir / (std::string(split) + "-features.npy")).string());
    data::write_npy(y, (dir / (std::string(split) + "-targets.npy")).string());
  }
  data::write_npy(Tensor::full({2048}, 1.f), (dir / "train-weights.npy").string());
  // A linear model saved with its input shape, to train further.
  const std::string model = (dir / "linear.bdl").string();
  {
    nn::Sequential m;
    m.add(std::make_unique<nn::Linear>(2, 1));
    io::save_model(m, model, {{2}, "a linear model"});
  }
  const std::string report = (dir / "r.json").string();
  CommandResult r = run_bdl("train --model " + model + " --data " + dir.string() +
                            " --loss mse --metrics mae,rmse --epochs 20 --batch-size 64 --lr 0.05 "
                            "--threads 1 --progress quiet --save " +
                            (dir / "trained.bdl").string() + " --report " + report);
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  std::ifstream in(report);
  const auto j = nlohmann::json::parse(in);
  EXPECT_LT(j["test_rmse"].get<double>(), 0.01);  // the data is exactly linear
  r = run_bdl("eval --model " + (dir / "trained.bdl").string() + " --data " + dir.string() +
              " --loss mse --metrics mae");
  EXPECT_EQ(r.exit_code, 0) << r.stderr_text;
  fs::remove_all(dir);
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// Stopped mid-way through the second epoch and resumed with --resume, `bdl train`
// saves the same model file, byte for byte, as a run that was never stopped;
// then eval, predict (.npy in and out) and info run on the saved file.
TEST(BdlCommand, ResumedTrainingSavesTheSameModelAndItRuns) {
  if (!std::filesystem::exists("/usr/share/datasets/fashion-mnist")) {
    GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  }
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("bdl_resume_cli_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string common =
      "train --model lenet5 --epochs 2 --batch-size 100 --train-samples 3000 --test-samples 500 "
      "--threads 1 --optimizer adam --lr 0.002 --progress quiet ";
  const std::string ckpt = (dir / "ckpt").string();
  ASSERT_EQ(run_bdl(common + "--save " + (dir / "whole.bdl").string()).exit_code, 0);
  auto r = run_bdl(common + "--max-iteration 45 --checkpoint " + ckpt + " --checkpoint-every 20");
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  r = run_bdl(common + "--checkpoint " + ckpt + " --resume --save " +
              (dir / "resumed.bdl").string());
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  const std::string whole = slurp((dir / "whole.bdl").string());
  ASSERT_GT(whole.size(), 200000u);
  EXPECT_TRUE(whole == slurp((dir / "resumed.bdl").string()));

  const std::string model = (dir / "resumed.bdl").string();
  auto run_out = [](const std::string& args) {
    FILE* pipe = popen((std::string(BDL_TOOL_PATH) + " " + args + " 2>&1").c_str(), "r");
    std::string text;
    std::array<char, 512> buffer{};
    while (fgets(buffer.data(), buffer.size(), pipe)) text += buffer.data();
    EXPECT_EQ(pclose(pipe), 0) << args << "\n" << text;
    return text;
  };
  EXPECT_NE(run_out("eval --model " + model + " --limit 500").find("eval: 500 samples, top-1 0."),
            std::string::npos);
  const std::string top =
      run_out("predict --model " + model + " --data fashion-mnist --limit 2 --top-k 3");
  EXPECT_NE(top.find("0 9: "), std::string::npos) << top;  // sample 0 is labelled 9
  EXPECT_NE(run_out("info --model " + model).find("parameters: 61706"), std::string::npos);
  // A batch of 3 zero images through .npy files: (3, 1, 28, 28) in, (3, 10) out.
  {
    std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 1, 28, 28), }";
    while ((10 + header.size() + 1) % 64 != 0) header += ' ';
    header += '\n';
    std::ofstream npy(dir / "x.npy", std::ios::binary);
    npy.write("\x93NUMPY\x01\x00", 8);
    const uint16_t len = static_cast<uint16_t>(header.size());
    npy.write(reinterpret_cast<const char*>(&len), 2);
    npy << header;
    const std::vector<float> zeros(3 * 28 * 28, 0.f);
    npy.write(reinterpret_cast<const char*>(zeros.data()),
              static_cast<std::streamsize>(zeros.size() * 4));
  }
  run_out("predict --model " + model + " --input " + (dir / "x.npy").string() + " --output " +
          (dir / "y.npy").string());
  const std::string y = slurp((dir / "y.npy").string());
  EXPECT_NE(y.find("'shape': (3, 10)"), std::string::npos) << y.substr(0, 80);
  EXPECT_EQ(y.size(), 128u + 3 * 10 * 4);
  // A model that takes other samples: the shapes are named.
  r = run_bdl("predict --model " + model + " --input " + (dir / "y.npy").string() + " --output " +
              (dir / "z.npy").string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.stderr_text.find("samples of shape [10], the model takes [1, 28, 28]"),
            std::string::npos)
      << r.stderr_text;
  fs::remove_all(dir);
}

// An ONNX model from ONNX's test data: imported to bdl's format, exported back
// to ONNX; predict gives ONNX's expected output from all three files.
TEST(BdlCommand, ImportExportAndPredictOnOnnx) {
  namespace fs = std::filesystem;
  const fs::path test = "/usr/share/libonnx-testdata/data/pytorch-converted/test_Conv2d";
  const fs::path dir = fs::temp_directory_path() / ("bdl_onnx_cli_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string original = (test / "model.onnx").string();
  const std::string imported = (dir / "conv.bdl").string();
  const std::string exported = (dir / "conv.onnx").string();
  auto r = run_bdl("import " + original + " -o " + imported);
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  r = run_bdl("export " + imported + " -o " + exported);
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  const Tensor x = onnx::read_tensor((test / "test_data_set_0" / "input_0.pb").string());
  const Tensor want = onnx::read_tensor((test / "test_data_set_0" / "output_0.pb").string());
  data::write_npy(x, (dir / "x.npy").string());
  for (const std::string& model : {original, imported, exported}) {
    SCOPED_TRACE(model);
    const std::string y = (dir / "y.npy").string();
    r = run_bdl("predict --model " + model + " --input " + (dir / "x.npy").string() + " --output " +
                y);
    ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
    const Tensor got = data::read_npy(y);
    ASSERT_EQ(got.shape(), want.shape());
    const auto g = got.span_f32();
    const auto w = want.span_f32();
    for (size_t i = 0; i < w.size(); ++i) {
      ASSERT_NEAR(g[i], w[i], 1e-4 + 1e-3 * std::fabs(w[i])) << "element " << i;
    }
  }
  // Not a model in either format: the file is named.
  r = run_bdl("import " + (dir / "x.npy").string() + " -o " + (dir / "bad.bdl").string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.stderr_text.find("x.npy: not an ONNX model"), std::string::npos) << r.stderr_text;
  fs::remove_all(dir);
}

// bdl train --model FILE continues from a model file: here a LeNet-5 exported
// to ONNX after one iteration, trained for two epochs on 3000 samples (the zoo's
// LeNet-5 reaches 0.72 so; an untrained one stays near 0.1).
TEST(BdlCommand, TrainContinuesFromAnOnnxModel) {
  if (!std::filesystem::exists("/usr/share/datasets/fashion-mnist")) {
    GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  }
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("bdl_finetune_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string common =
      " --train-samples 3000 --test-samples 500 --threads 1 --progress quiet";
  auto r =
      run_bdl("train --model lenet5 --max-iteration 1 --save " + (dir / "a.bdl").string() + common);
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  r = run_bdl("export " + (dir / "a.bdl").string() + " -o " + (dir / "a.onnx").string());
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  const std::string report = (dir / "r.json").string();
  r = run_bdl("train --model " + (dir / "a.onnx").string() +
              " --epochs 2 --optimizer adam --lr 0.002 --report " + report + common);
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  const auto j = nlohmann::json::parse(slurp(report));
  EXPECT_GT(j["test_top1"].get<double>(), 0.6) << j.dump();
  // A model that is not a classifier is named with its output shape.
  r = run_bdl(
      "train --model /usr/share/libonnx-testdata/data/pytorch-converted/test_Conv2d/model.onnx"
      " --epochs 1" +
      common);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.stderr_text.find("model.onnx: output of shape [1, 4, 5, 4] is not (batch, classes)"),
            std::string::npos)
      << r.stderr_text;
  fs::remove_all(dir);
}

TEST(ConvertArgs, EachBadValueNamesItsFlag) {
  ConvertArgs a;
  a.output = "/tmp/out";
  a.shard_size = 0;
  auto error = [](const ConvertArgs& c) {
    try {
      validate(c);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error(a), "--shard-size: must be a positive integer, got 0");
  a.shard_size = 1 << 20;
  a.shards = -2;
  EXPECT_EQ(error(a), "--shards: between 1 and 99999, got -2");
  a.shards = 0;
  a.image_size = 0;
  EXPECT_EQ(error(a), "--image-size: between 1 and 65500, got 0");
  a.image_size = 64;
  a.channels = 2;
  EXPECT_EQ(error(a), "--channels: 1 (grey) or 3 (RGB), got 2");
  a.channels = 1;
  a.output = "";
  EXPECT_EQ(error(a), "-o/--output: a directory to write is required");
}

TEST(BdlCommand, ConvertsFashionMnistToShardsOfAChosenSize) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("bdl_convert_" + std::to_string(getpid()));
  const auto r = run_bdl("convert --data fashion-mnist --shard-size 20000000 -o " + dir.string());
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  // 60,000 records of 784 bytes and about 40 of the rest: 3 shards of about 20
  // MB, and the MANIFEST.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir / "train"), fs::directory_iterator{}), 4);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir / "test"), fs::directory_iterator{}), 2);
  EXPECT_TRUE(fs::is_regular_file(dir / "train" / "MANIFEST"));
  const auto bad =
      run_bdl("convert --data " + (dir / "train").string() + " -o " + (dir / "again").string());
  EXPECT_EQ(bad.exit_code, 1);
  fs::remove_all(dir);
}

// Fashion-MNIST as record shards: described by bdl info, trained on streamed
// (one-hot targets made as records stream, for a loss on values), a damaged
// record named by shard and offset, or skipped and counted when asked.
TEST(BdlCommand, TrainsFromRecordShards) {
  namespace fs = std::filesystem;
  if (!fs::exists("/usr/share/datasets/fashion-mnist")) {
    GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  }
  const testing::TempDir tmp("bdl_shards_cli");
  const std::string dir = tmp.file("fm");
  ASSERT_EQ(run_bdl("convert --data fashion-mnist --shards 4 -o " + dir).exit_code, 0);
  const auto info = run_bdl("info --data " + dir, true);
  ASSERT_EQ(info.exit_code, 0) << info.stderr_text;
  EXPECT_NE(info.stderr_text.find("train: 60000 samples of [1, 28, 28] u8, 10 classes, 4 record "
                                  "shards, 51."),
            std::string::npos)
      << info.stderr_text;
  EXPECT_NE(info.stderr_text.find("test: 10000 samples"), std::string::npos) << info.stderr_text;

  const std::string report = tmp.file("report.json");
  const std::string train = "train --model mlp --data " + dir +
                            " --epochs 1 --train-samples 6000 --test-samples 1000 --threads 2 "
                            "--loss bce_with_logits --metrics top1 --optimizer adam --lr 0.001 "
                            "--progress quiet "
                            "--report " +
                            report;
  const auto r = run_bdl(train, true);
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_NE(r.stderr_text.find("on record shards " + dir), std::string::npos) << r.stderr_text;
  {
    std::ifstream in(report);
    const auto j = nlohmann::json::parse(in);
    EXPECT_GT(j["test_top1"].get<double>(), 0.6);
    EXPECT_EQ(j["skipped_records"], 0);
  }

  // A byte flipped inside record 100 of the first shard (the first 6000 samples
  // are all there).
  const std::string shard = dir + "/train/part-00000-of-00004.tfrecord";
  const auto record = static_cast<int64_t>(fs::file_size(shard)) / 15000;
  {
    std::fstream f(shard, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100 * record + 300);
    f.put('\x7f');
  }
  const auto bad = run_bdl(train);
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.stderr_text.find(shard + ": record at byte " + std::to_string(100 * record)),
            std::string::npos)
      << bad.stderr_text;
  const auto skipped = run_bdl(train + " --skip-bad-records", true);
  ASSERT_EQ(skipped.exit_code, 0) << skipped.stderr_text;
  EXPECT_NE(skipped.stderr_text.find("skipped 1 damaged records"), std::string::npos)
      << skipped.stderr_text;
  std::ifstream in(report);
  EXPECT_EQ(nlohmann::json::parse(in)["skipped_records"], 1);
  EXPECT_EQ(run_bdl("info --data " + dir + " --model mlp").exit_code, 1);
  // A glob of record files: two of the four shards, counted by reading them.
  const auto glob = run_bdl("train --model mlp --data '" + dir +
                                "/train/part-0000[23]-*.tfrecord' --epochs 1 --max-iteration 2 "
                                "--progress quiet",
                            true);
  ASSERT_EQ(glob.exit_code, 0) << glob.stderr_text;
  EXPECT_NE(glob.stderr_text.find("(30000 train, 0 test samples)"), std::string::npos)
      << glob.stderr_text;
  const auto none = run_bdl("train --model mlp --data '" + dir + "/train/nothing-*' --epochs 1");
  EXPECT_NE(none.stderr_text.find("nothing-*: no files match"), std::string::npos)
      << none.stderr_text;
}

// A table in train.csv and test.csv (a text column, missing values filled by
// the mean, a text label) trains a model file that takes its 3 features.
// An image folder: 3 classes told apart by where a bright square sits, as
// PNGs and JPEGs of different sizes, decoded to the model's 3 x 12 x 12.
TEST(BdlCommand, TrainsFromAnImageFolder) {
  const testing::TempDir tmp("bdl_images_cli");
  for (const char* split : {"train", "test"}) {
    const int n = std::string(split) == "train" ? 60 : 15;
    for (int c = 0; c < 3; ++c) {
      const auto dir = tmp.path() / split / std::to_string(c).insert(0, "shape");
      std::filesystem::create_directories(dir);
      for (int i = 0; i < n; ++i) {
        const int64_t w = 24 + i % 5, h = 24 + i % 3;
        std::vector<uint8_t> px(static_cast<size_t>(w * h * 3));
        for (int64_t y = 0; y < h; ++y) {
          for (int64_t x = 0; x < w; ++x) {
            const bool lit = c == 0 ? x < w / 2 : c == 1 ? y < h / 2 : (x >= w / 2 && y >= h / 2);
            for (int k = 0; k < 3; ++k) {
              px[static_cast<size_t>((y * w + x) * 3 + k)] =
                  static_cast<uint8_t>((lit ? 200 : 40) + (x * 7 + y * 3 + i * 11 + k) % 23);
            }
          }
        }
        std::filesystem::path file = dir / std::to_string(i);
        if (i % 2) {
          data::write_png(file.replace_extension(".png").string(), px.data(), w, h, 3);
        } else {
          data::write_jpeg(file.replace_extension(".jpg").string(), px.data(), w, h, 3, 90);
        }
      }
    }
  }
  const std::string model = tmp.file("m.bdl");
  {
    nn::Sequential m;
    m.add(std::make_unique<nn::Flatten>());
    m.add(std::make_unique<nn::Linear>(3 * 12 * 12, 3));
    io::save_model(m, model, {{3, 12, 12}, "a linear classifier of images"});
  }
  const std::string dir = tmp.path().string();
  const std::string args = "train --model " + model + " --data " + dir +
                           " --augment flip --decode-threads 2 --epochs 4 --batch-size 12 "
                           "--optimizer adam --lr 0.01 --progress quiet --save " +
                           tmp.file("out.bdl") + " --report " + tmp.file("r.json");
  const auto r = run_bdl(args);
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  {
    std::ifstream in(tmp.file("r.json"));
    const auto j = nlohmann::json::parse(in);
    EXPECT_EQ(j["test_samples"], 45);
    EXPECT_GT(j["test_top1"].get<double>(), 0.9);
    EXPECT_EQ(j["skipped_records"], 0);
  }
  const auto eval = run_bdl("eval --model " + tmp.file("out.bdl") + " --data " + dir, true);
  ASSERT_EQ(eval.exit_code, 0) << eval.stderr_text;
  EXPECT_NE(eval.stderr_text.find("45 samples"), std::string::npos) << eval.stderr_text;
  // Predictions streamed batch by batch: every test image, numbered on.
  const auto predicted = run_bdl(
      "predict --model " + tmp.file("out.bdl") + " --data " + dir + " --batch-size 4", true);
  ASSERT_EQ(predicted.exit_code, 0) << predicted.stderr_text;
  EXPECT_NE(predicted.stderr_text.find("\n0 0: "), std::string::npos) << predicted.stderr_text;
  EXPECT_NE(predicted.stderr_text.find("\n44 2: "), std::string::npos) << predicted.stderr_text;
  EXPECT_EQ(predicted.stderr_text.find("\n45 "), std::string::npos);
  const auto info = run_bdl("info --data " + dir, true);
  EXPECT_NE(info.stderr_text.find("train: 180 images (JPEG, PNG)"), std::string::npos)
      << info.stderr_text;
  EXPECT_NE(info.stderr_text.find("shape0 60 shape1 60 shape2 60"), std::string::npos);
  // A damaged image stops training, named; --skip-bad-records skips and counts it.
  const auto cut = tmp.path() / "train" / "shape1" / "4.jpg";
  std::filesystem::resize_file(cut, std::filesystem::file_size(cut) - 40);
  const auto bad = run_bdl(args);
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.stderr_text.find("shape1/4.jpg: a JPEG cut short"), std::string::npos)
      << bad.stderr_text;
  const auto skipped = run_bdl(args + " --skip-bad-records");
  ASSERT_EQ(skipped.exit_code, 0) << skipped.stderr_text;
  std::ifstream in(tmp.file("r.json"));
  EXPECT_EQ(nlohmann::json::parse(in)["skipped_records"], 1);
  const auto wrong = run_bdl("train --model lenet5 --data " + dir + " --augment blur");
  EXPECT_NE(wrong.stderr_text.find("--augment"), std::string::npos) << wrong.stderr_text;
}

TEST(BdlCommand, TrainsFromACsvTable) {
  const testing::TempDir tmp("bdl_csv_cli");
  std::string train = "x1,colour,x2,y\n", test = train;
  for (int i = 0; i < 2000; ++i) {
    const double a = (i * 37 % 101) / 50.0 - 1, b = (i * 53 % 97) / 48.0 - 1;
    const bool positive = a + b > 0;
    const std::string row = (i % 17 == 0 ? std::string() : std::to_string(a)) + "," +
                            (i % 2 ? "red" : "blue") + "," + std::to_string(b) + "," +
                            (positive ? "yes" : "no") + "\n";
    (i < 1600 ? train : test) += row;
  }
  std::ofstream(tmp.file("train.csv")) << train;
  std::ofstream(tmp.file("test.csv")) << test;
  const std::string model = tmp.file("m.bdl");
  {
    nn::Sequential m;
    m.add(std::make_unique<nn::Linear>(3, 2));
    io::save_model(m, model, {{3}, "a linear classifier"});
  }
  const std::string dir = tmp.path().string();
  const std::string args = "train --model " + model + " --data " + dir +
                           " --label-column y --epochs 5 --batch-size 32 --optimizer adam --lr "
                           "0.05 --progress quiet --report " +
                           tmp.file("r.json");
  const auto missing = run_bdl(args);
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.stderr_text.find(tmp.file("train.csv") + ": line 2, column 'x1': a missing "
                                                             "value"),
            std::string::npos)
      << missing.stderr_text;
  const auto r = run_bdl(args + " --missing mean");
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  std::ifstream in(tmp.file("r.json"));
  const auto j = nlohmann::json::parse(in);
  EXPECT_EQ(j["test_samples"], 400);
  EXPECT_GT(j["test_top1"].get<double>(), 0.9);
  const auto bad = run_bdl(args + " --missing mean --feature-columns x1,shade");
  EXPECT_NE(bad.stderr_text.find(": no column 'shade' (--feature-columns)"), std::string::npos)
      << bad.stderr_text;
  // The table as record shards: the same columns and categories, both files.
  const auto converted =
      run_bdl("convert --data " + dir + " --label-column y --missing mean --shards 2 -o " +
                  tmp.file("shards"),
              true);
  ASSERT_EQ(converted.exit_code, 0) << converted.stderr_text;
  EXPECT_NE(converted.stderr_text.find("wrote 1600 train samples in 2 shards"), std::string::npos)
      << converted.stderr_text;
  EXPECT_NE(converted.stderr_text.find("wrote 400 test samples in 2 shards"), std::string::npos);
  const auto trained = run_bdl("train --model " + model + " --data " + tmp.file("shards") +
                               " --epochs 5 --batch-size 32 --optimizer adam --lr 0.05 --progress "
                               "quiet --report " +
                               tmp.file("s.json"));
  ASSERT_EQ(trained.exit_code, 0) << trained.stderr_text;
  std::ifstream shards_report(tmp.file("s.json"));
  EXPECT_GT(nlohmann::json::parse(shards_report)["test_top1"].get<double>(), 0.9);
  const auto unlabelled = run_bdl("convert --data " + dir + " -o " + tmp.file("x"));
  EXPECT_NE(unlabelled.stderr_text.find("label"), std::string::npos) << unlabelled.stderr_text;
}

}  // namespace
}  // namespace bdl::cli
