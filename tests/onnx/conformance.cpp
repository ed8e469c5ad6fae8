// Runs ONNX's backend test cases (Debian's libonnx-testdata) through bdl's
// importer: each case is a model.onnx and test_data_set_*/{input,output}_N.pb.
// A case passes when every output matches within ONNX's tolerances (rtol 1e-3,
// atol 1e-7); it is skipped when the model uses what bdl does not support (an
// operator, an attribute value, a non-float input), with the reason; any other
// error or mismatch fails it. Prints the counts per directory and exits 1 when
// a case fails.
//
//   onnx_conformance [--verbose] [--strict] [DIR...]   (default: the four
//   directories of /usr/share/libonnx-testdata/data; --strict fails skips too,
//   for bdl's own cases in tests/fixtures/onnx_ops)
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "bdl/onnx/import.h"

namespace fs = std::filesystem;
using bdl::Tensor;

namespace {

enum class Outcome { pass, skip, fail };

struct Result {
  Outcome outcome;
  std::string detail;
};

std::vector<fs::path> sorted_entries(const fs::path& dir, const std::string& prefix) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().filename().string().rfind(prefix, 0) == 0) out.push_back(e.path());
  }
  // input_10 after input_9.
  std::sort(out.begin(), out.end(), [](const fs::path& a, const fs::path& b) {
    const auto na = a.filename().string(), nb = b.filename().string();
    return na.size() != nb.size() ? na.size() < nb.size() : na < nb;
  });
  return out;
}

std::string compare(const Tensor& got_in, const Tensor& want, const std::string& name) {
  const Tensor got = got_in.contiguous();
  if (got.shape() != want.shape()) {
    return name + ": shape " + got.shape_str() + ", expected " + want.shape_str();
  }
  if (want.dtype() == bdl::DType::i64) {
    // Integers and booleans, which bdl carries as float32: equal exactly.
    const auto g = got.span_f32();
    const auto w = want.contiguous();
    const int64_t* pw = w.data<int64_t>();
    for (size_t i = 0; i < g.size(); ++i) {
      if (static_cast<double>(g[i]) != static_cast<double>(pw[i])) {
        return name + ": element " + std::to_string(i) + " is " + std::to_string(g[i]) +
               ", expected " + std::to_string(pw[i]);
      }
    }
    return "";
  }
  if (want.dtype() != bdl::DType::f32) return name + ": expected a " + "u8 output";
  const auto g = got.span_f32();
  const auto w = want.contiguous().span_f32();
  size_t bad = 0;
  double worst = 0;
  size_t worst_at = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    const double a = g[i], b = w[i];
    if (std::isnan(b) && std::isnan(a)) continue;
    if (std::isinf(b) && a == b) continue;
    const double err = std::fabs(a - b);
    if (!(err <= 1e-7 + 1e-3 * std::fabs(b))) {
      ++bad;
      if (!(err <= worst)) {
        worst = err;
        worst_at = i;
      }
    }
  }
  if (bad == 0) return "";
  char buf[200];
  std::snprintf(buf, sizeof buf, ": %zu of %zu elements off, worst at %zu: %g, expected %g", bad,
                w.size(), worst_at, static_cast<double>(g[worst_at]),
                static_cast<double>(w[worst_at]));
  return name + buf;
}

// One test set: the model imported with the inputs it needs at load time bound
// to the set's data (integer inputs always; float inputs other than the first
// when a converter asks for a constant, such as a convolution's weight), then
// run on the rest. `bound` collects the names of the bound inputs.
Result run_set(const fs::path& dir, const fs::path& set, std::vector<std::string>& bound) {
  const std::string model_path = (dir / "model.onnx").string();
  const auto names = bdl::onnx::graph_input_names(model_path);
  const auto input_files = sorted_entries(set, "input_");
  const auto output_files = sorted_entries(set, "output_");
  if (input_files.size() != names.size()) {
    return {Outcome::fail, set.filename().string() + ": " + std::to_string(input_files.size()) +
                               " input files for " + std::to_string(names.size()) +
                               " graph inputs"};
  }
  std::map<std::string, Tensor> data;
  for (size_t i = 0; i < names.size(); ++i) {
    data[names[i]] = bdl::onnx::read_tensor(input_files[i].string());
  }
  bdl::onnx::ImportOptions options;
  for (const auto& [name, t] : data) {
    if (t.dtype() != bdl::DType::f32) options.bind[name] = t;
  }
  bdl::onnx::ImportedModel model;
  try {
    model = bdl::onnx::import_model(model_path, options);
  } catch (const bdl::onnx::Unsupported& e) {
    if (std::string(e.what()).find("computed at run time") == std::string::npos) throw;
    for (size_t i = 1; i < names.size(); ++i) options.bind[names[i]] = data[names[i]];
    model = bdl::onnx::import_model(model_path, options);
  }
  bound.clear();
  for (const auto& [name, t] : options.bind) bound.push_back(name);
  model.graph->eval();
  std::vector<const Tensor*> inputs;
  for (const auto& name : model.input_names) inputs.push_back(&data.at(name));
  model.graph->forward_many(inputs);
  if (output_files.size() != model.output_nodes.size()) {
    return {Outcome::fail, std::to_string(output_files.size()) + " output files for " +
                               std::to_string(model.output_nodes.size()) + " outputs"};
  }
  for (size_t i = 0; i < output_files.size(); ++i) {
    const Tensor want = bdl::onnx::read_tensor(output_files[i].string());
    const std::string err =
        compare(model.graph->node_output(model.output_nodes[i]), want,
                set.filename().string() + " output '" + model.output_names[i] + "'");
    if (!err.empty()) return {Outcome::fail, err};
  }
  return {Outcome::pass, ""};
}

Result run_case(const fs::path& dir) {
  const auto sets = sorted_entries(dir, "test_data_set_");
  if (sets.empty()) return {Outcome::fail, "no test_data_set_* directory"};
  std::vector<std::string> bound;
  for (const auto& set : sets) {
    try {
      const Result r = run_set(dir, set, bound);
      if (r.outcome != Outcome::pass) return r;
    } catch (const bdl::onnx::Unsupported& e) {
      return {Outcome::skip, e.what()};
    } catch (const std::exception& e) {
      return {Outcome::fail, set.filename().string() + ": " + e.what()};
    }
  }
  std::string detail;
  for (const auto& b : bound) detail += (detail.empty() ? "bound at import: " : ", ") + b;
  return {Outcome::pass, detail};
}

// The reason a skip names, shortened to the part after the file name.
std::string reason(const std::string& message, const fs::path& dir) {
  const std::string prefix = (dir / "model.onnx").string() + ": ";
  return message.rfind(prefix, 0) == 0 ? message.substr(prefix.size()) : message;
}

}  // namespace

int main(int argc, char** argv) {
  bool verbose = false;
  bool strict = false;
  std::vector<fs::path> roots;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--strict") {
      strict = true;
    } else if (a == "--verbose" || a == "-v") {
      verbose = true;
    } else {
      roots.emplace_back(a);
    }
  }
  if (roots.empty()) {
    const fs::path base = "/usr/share/libonnx-testdata/data";
    for (const char* d : {"node", "pytorch-converted", "pytorch-operator", "simple"}) {
      roots.push_back(base / d);
    }
  }
  int failed = 0;
  std::printf("%-20s %6s %6s %6s %6s\n", "directory", "cases", "pass", "skip", "fail");
  std::vector<std::string> report;
  for (const auto& root : roots) {
    if (!fs::is_directory(root)) {
      std::fprintf(stderr, "onnx_conformance: %s is not a directory (install libonnx-testdata)\n",
                   root.c_str());
      return 2;
    }
    int counts[3] = {0, 0, 0};
    std::vector<fs::path> cases;
    for (const auto& e : fs::directory_iterator(root)) {
      if (fs::exists(e.path() / "model.onnx")) cases.push_back(e.path());
    }
    std::sort(cases.begin(), cases.end());
    for (const auto& c : cases) {
      const Result r = run_case(c);
      ++counts[static_cast<int>(r.outcome)];
      const char* tag = r.outcome == Outcome::pass   ? "PASS"
                        : r.outcome == Outcome::skip ? "SKIP"
                                                     : "FAIL";
      if (r.outcome == Outcome::fail || verbose || (strict && r.outcome == Outcome::skip)) {
        report.push_back(std::string(tag) + " " + root.filename().string() + "/" +
                         c.filename().string() +
                         (r.detail.empty() ? "" : ": " + reason(r.detail, c)));
      }
    }
    failed += counts[2] + (strict ? counts[1] : 0);
    std::printf("%-20s %6zu %6d %6d %6d\n", root.filename().c_str(), cases.size(), counts[0],
                counts[1], counts[2]);
  }
  for (const auto& line : report) std::printf("%s\n", line.c_str());
  return failed > 0 ? 1 : 0;
}
