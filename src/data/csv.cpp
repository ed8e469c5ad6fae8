// CSV and TSV tables: the file mapped, cut into byte ranges at line ends, and
// each range parsed by its own thread straight into the feature tensor.
#include "bdl/data/csv.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <set>
#include <string_view>
#include <thread>

#include "bdl/core/error.h"
#include "bdl/core/file.h"

namespace bdl::data {
namespace {

using Line = std::string_view;

// The fields of one line, quotes removed ("a ""b""" is one field; its doubled
// quotes are undone by text_of).
void split(Line line, char delimiter, std::vector<std::string_view>& fields) {
  fields.clear();
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  size_t i = 0;
  for (;;) {
    if (i < line.size() && line[i] == '"') {
      size_t j = i + 1;
      while (j < line.size() && !(line[j] == '"' && (j + 1 == line.size() || line[j + 1] != '"'))) {
        j += line[j] == '"' ? 2 : 1;
      }
      fields.push_back(line.substr(i + 1, std::min(j, line.size()) - i - 1));
      i = std::min(j + 1, line.size());
      if (i < line.size() && line[i] == delimiter) {
        ++i;
        continue;
      }
      return;
    }
    const size_t end = line.find(delimiter, i);
    fields.push_back(line.substr(i, end == Line::npos ? Line::npos : end - i));
    if (end == Line::npos) return;
    i = end + 1;
  }
}

std::string text_of(std::string_view field) {
  std::string s;
  s.reserve(field.size());
  for (size_t i = 0; i < field.size(); ++i) {
    s += field[i];
    if (field[i] == '"' && i + 1 < field.size() && field[i + 1] == '"') ++i;
  }
  return s;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool is_missing(std::string_view s) {
  return s.empty() || s == "NA" || s == "N/A" || s == "NaN" || s == "nan" || s == "null" ||
         s == "NULL";
}

// A number, or false for text.
bool number(std::string_view s, double& out) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

struct Problem {
  int64_t line = std::numeric_limits<int64_t>::max();
  std::string message;
  void note(int64_t at, std::string text) {
    if (at < line) {
      line = at;
      message = std::move(text);
    }
  }
};

// What one thread found in its rows.
struct Part {
  std::vector<Line> lines;
  std::vector<char> text;  // per column read: a field that is not a number
  Problem problem;
};

}  // namespace

Dataset read_csv(const std::string& path, const CsvOptions& options, CsvSchema* schema_out,
                 const CsvSchema* schema) {
  BDL_CHECK(!options.label_column.empty(), path, ": no label column named (--label-column)");
  InputFile file(path);
  const auto bytes = file.bytes();
  const std::string_view all(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  const char delimiter = options.delimiter != 0
                             ? options.delimiter
                             : (std::filesystem::path(path).extension() == ".tsv" ? '\t' : ',');

  const size_t header_end = all.find('\n');
  std::vector<std::string_view> fields;
  split(all.substr(0, header_end), delimiter, fields);
  std::vector<std::string> header;
  for (auto f : fields) header.emplace_back(text_of(trim(f)));
  BDL_CHECK(!all.empty() && !header.empty(), path, ": empty (a header row is needed)");
  auto column = [&](const std::string& name, const char* what) {
    const auto it = std::find(header.begin(), header.end(), name);
    BDL_CHECK(it != header.end(), path, ": no column '", name, "' (", what, "); the header has ",
              header.size(), " columns");
    return static_cast<size_t>(it - header.begin());
  };
  const size_t label = column(options.label_column, "--label-column");
  std::vector<std::string> names = schema ? schema->features : options.feature_columns;
  if (names.empty()) {
    for (const auto& h : header) {
      if (h != options.label_column) names.push_back(h);
    }
  }
  std::vector<size_t> cols;
  for (const auto& n : names) cols.push_back(column(n, "--feature-columns"));
  const size_t width = cols.size();
  BDL_CHECK(width > 0, path, ": no feature columns");

  // Byte ranges that start at line starts, one per thread.
  const std::string_view body =
      header_end == std::string_view::npos ? std::string_view() : all.substr(header_end + 1);
  const int threads =
      std::max<int>(1, options.threads > 0 ? options.threads
                                           : static_cast<int>(std::thread::hardware_concurrency()));
  const size_t parts_wanted = body.size() < (1u << 20) ? 1 : static_cast<size_t>(threads);
  std::vector<size_t> starts{0};
  for (size_t t = 1; t < parts_wanted; ++t) {
    const size_t nominal = body.size() * t / parts_wanted;
    const size_t nl = body.find('\n', std::max(nominal, starts.back()));
    if (nl == std::string_view::npos) break;
    if (nl + 1 < body.size()) starts.push_back(nl + 1);
  }
  starts.push_back(body.size());
  const size_t nparts = starts.size() - 1;
  std::vector<Part> parts(nparts);
  auto run = [&](auto&& work) {
    std::vector<std::thread> pool;
    for (size_t p = 1; p < nparts; ++p) pool.emplace_back(work, p);
    work(size_t{0});
    for (auto& t : pool) t.join();
  };
  // Pass 1: the lines of each range (a blank line at the very end is not a row).
  run([&](size_t p) {
    std::string_view range = body.substr(starts[p], starts[p + 1] - starts[p]);
    while (!range.empty()) {
      const size_t nl = range.find('\n');
      const Line line = range.substr(0, nl);
      range = nl == std::string_view::npos ? std::string_view() : range.substr(nl + 1);
      parts[p].lines.push_back(line);
    }
    if (p + 1 == nparts) {
      while (!parts[p].lines.empty() && trim(parts[p].lines.back()).empty()) {
        parts[p].lines.pop_back();
      }
    }
  });
  std::vector<int64_t> first_row(nparts + 1, 0);
  for (size_t p = 0; p < nparts; ++p) {
    first_row[p + 1] = first_row[p] + static_cast<int64_t>(parts[p].lines.size());
  }
  const int64_t rows = first_row[nparts];
  BDL_CHECK(rows > 0, path, ": a header and no rows");

  // Pass 2: numbers into the features; text fields marked.
  Tensor features({rows, static_cast<int64_t>(width)});
  std::vector<double> labels(static_cast<size_t>(rows));
  const float nan = std::numeric_limits<float>::quiet_NaN();
  run([&](size_t p) {
    Part& part = parts[p];
    part.text.assign(width + 1, 0);
    std::vector<std::string_view> f;
    for (size_t r = 0; r < part.lines.size(); ++r) {
      const int64_t row = first_row[p] + static_cast<int64_t>(r);
      const int64_t line_number = row + 2;
      split(part.lines[r], delimiter, f);
      if (f.size() != header.size()) {
        part.problem.note(line_number,
                          detail::concat(path, ": line ", line_number, " has ", f.size(),
                                         " fields, the header has ", header.size()));
        continue;
      }
      float* out = features.f32() + row * static_cast<int64_t>(width);
      for (size_t j = 0; j < width; ++j) {
        const std::string_view s = trim(f[cols[j]]);
        double v = 0;
        if (is_missing(s)) {
          out[j] = nan;
        } else if (number(s, v)) {
          out[j] = static_cast<float>(v);
        } else {
          out[j] = 0.f;
          part.text[j] = 1;
        }
      }
      const std::string_view s = trim(f[label]);
      double v = 0;
      if (is_missing(s)) {
        part.problem.note(line_number,
                          detail::concat(path, ": line ", line_number, ", column '",
                                         options.label_column, "': the label is missing"));
      } else if (number(s, v)) {
        labels[static_cast<size_t>(row)] = v;
      } else {
        part.text[width] = 1;
      }
    }
  });
  Problem problem;
  for (const Part& part : parts) problem.note(part.problem.line, part.problem.message);
  if (!problem.message.empty()) throw Error(problem.message);

  // Text columns: categories in sorted order (or the training file's), then
  // each field's index.
  CsvSchema found;
  found.features = names;
  found.label = options.label_column;
  std::vector<char> text(width + 1, 0);
  for (const Part& part : parts) {
    for (size_t j = 0; j <= width; ++j) text[j] |= part.text[j];
  }
  if (schema) {
    for (size_t j = 0; j < width; ++j) {
      const bool categorical = schema->categories.count(names[j]) > 0;
      BDL_CHECK(categorical || !text[j], path, ": column '", names[j],
                "' holds text where the training file has numbers");
      text[j] = categorical ? 1 : 0;
    }
    BDL_CHECK(!schema->label_classes.empty() || !text[width], path, ": column '",
              options.label_column, "' holds text where the training file has numbers");
    text[width] = schema->label_classes.empty() ? 0 : 1;
  }
  std::vector<std::vector<std::string>> categories(width + 1);
  for (size_t j = 0; j <= width; ++j) {
    if (!text[j]) continue;
    const std::string& name = j < width ? names[j] : options.label_column;
    if (schema) {
      categories[j] = j < width ? schema->categories.at(name) : schema->label_classes;
      continue;
    }
    std::set<std::string> values;
    const size_t c = j < width ? cols[j] : label;
    std::vector<std::string_view> f;
    for (const Part& part : parts) {
      for (Line line : part.lines) {
        split(line, delimiter, f);
        const std::string_view s = trim(f[c]);
        if (!is_missing(s)) values.insert(text_of(s));
      }
    }
    categories[j].assign(values.begin(), values.end());
  }
  run([&](size_t p) {
    std::vector<std::string_view> f;
    for (size_t r = 0; r < parts[p].lines.size(); ++r) {
      const int64_t row = first_row[p] + static_cast<int64_t>(r);
      bool split_done = false;
      for (size_t j = 0; j <= width; ++j) {
        if (!text[j]) continue;
        if (!split_done) split(parts[p].lines[r], delimiter, f);
        split_done = true;
        const std::string_view s = trim(f[j < width ? cols[j] : label]);
        if (is_missing(s)) continue;
        const std::string value = text_of(s);
        const auto& cats = categories[j];
        const auto it = std::lower_bound(cats.begin(), cats.end(), value);
        if (it == cats.end() || *it != value) {
          parts[p].problem.note(
              row + 2,
              detail::concat(path, ": line ", row + 2, ", column '",
                             j < width ? names[j] : options.label_column, "': '", value,
                             "' is not among the training file's ", cats.size(), " values"));
          continue;
        }
        const auto index = static_cast<double>(it - cats.begin());
        if (j < width) {
          features.f32()[row * static_cast<int64_t>(width) + static_cast<int64_t>(j)] =
              static_cast<float>(index);
        } else {
          labels[static_cast<size_t>(row)] = index;
        }
      }
    }
  });
  for (const Part& part : parts) problem.note(part.problem.line, part.problem.message);
  if (!problem.message.empty()) throw Error(problem.message);
  for (size_t j = 0; j < width; ++j) {
    if (text[j]) found.categories[names[j]] = categories[j];
  }

  // Missing features: an error naming the first (by line, then column), or
  // filled.
  if (options.missing == Missing::error) {
    const float* v = features.f32();
    for (int64_t i = 0; i < features.numel(); ++i) {
      BDL_CHECK(!std::isnan(v[i]), path, ": line ", i / static_cast<int64_t>(width) + 2,
                ", column '", names[static_cast<size_t>(i % static_cast<int64_t>(width))],
                "': a missing value (--missing zero or mean fills them)");
    }
  }
  for (size_t j = 0; j < width && options.missing != Missing::error; ++j) {
    double sum = 0;
    int64_t present = 0;
    for (int64_t r = 0; r < rows; ++r) {
      const float v = features.f32()[r * static_cast<int64_t>(width) + static_cast<int64_t>(j)];
      if (!std::isnan(v)) {
        sum += v;
        ++present;
      }
    }
    const float fill =
        options.missing == Missing::mean && present > 0 ? static_cast<float>(sum / present) : 0.f;
    for (int64_t r = 0; r < rows; ++r) {
      float& v = features.f32()[r * static_cast<int64_t>(width) + static_cast<int64_t>(j)];
      if (std::isnan(v)) v = fill;
    }
  }

  // The label: classes (text, or whole non-negative numbers) or values.
  bool classes = text[width] != 0;
  if (!classes) {
    classes =
        schema ? schema->label_is_classes : std::all_of(labels.begin(), labels.end(), [](double v) {
          return v >= 0 && v < 1e9 && v == std::floor(v);
        });
  }
  found.label_is_classes = classes;
  found.label_classes = categories[width];
  Tensor targets;
  if (classes) {
    targets = Tensor::empty({rows}, DType::i64);
    for (int64_t r = 0; r < rows; ++r) {
      const double v = labels[static_cast<size_t>(r)];
      BDL_CHECK(v >= 0 && v == std::floor(v), path, ": line ", r + 2, ", column '",
                options.label_column, "': ", v, " is not a class index (the training file's are)");
      targets.data<int64_t>()[r] = static_cast<int64_t>(v);
    }
  } else {
    targets = Tensor({rows, 1});
    for (int64_t r = 0; r < rows; ++r) {
      targets.f32()[r] = static_cast<float>(labels[static_cast<size_t>(r)]);
    }
  }
  if (schema_out) *schema_out = found;
  return Dataset(std::move(features), std::move(targets), path);
}

}  // namespace bdl::data
