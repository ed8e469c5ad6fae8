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

// One read of a table, in steps: the header and columns, the byte ranges and
// their lines, numbers, categories, missing values, standardisation, the label.
class TableReader {
 public:
  TableReader(const std::string& path, const CsvOptions& options, const CsvSchema* schema)
      : path_(path), options_(options), schema_(schema), file_(path) {
    BDL_CHECK(!options.label_column.empty(), path, ": no label column named (--label-column)");
    const auto bytes = file_.bytes();
    all_ = std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    delimiter_ = options.delimiter != 0
                     ? options.delimiter
                     : (std::filesystem::path(path).extension() == ".tsv" ? '\t' : ',');
  }

  Dataset read(CsvSchema* schema_out) {
    read_header();
    cut_lines();
    parse_numbers();
    encode_categories();
    fill_missing();
    if (options_.standardize) standardize();
    Tensor targets = label_targets();
    if (schema_out) *schema_out = found_;
    return Dataset(std::move(features_), std::move(targets), path_);
  }

 private:
  size_t width() const { return cols_.size(); }
  float& at(int64_t row, size_t j) {
    return features_.f32()[row * static_cast<int64_t>(width()) + static_cast<int64_t>(j)];
  }
  const std::string& column_name(size_t j) const {
    return j < width() ? names_[j] : options_.label_column;
  }
  size_t column_index(size_t j) const { return j < width() ? cols_[j] : label_; }

  size_t column(const std::string& name, const char* what) const {
    const auto it = std::find(header_.begin(), header_.end(), name);
    BDL_CHECK(it != header_.end(), path_, ": no column '", name, "' (", what, "); the header has ",
              header_.size(), " columns");
    return static_cast<size_t>(it - header_.begin());
  }

  // Runs work(part) for every byte range, each on its own thread.
  template <typename F>
  void each_part(F&& work) {
    std::vector<std::thread> pool;
    pool.reserve(parts_.size());
    for (size_t p = 1; p < parts_.size(); ++p) pool.emplace_back(work, p);
    work(size_t{0});
    for (auto& t : pool) t.join();
  }

  void throw_first_problem() const {
    Problem problem;
    for (const Part& part : parts_) problem.note(part.problem.line, part.problem.message);
    if (!problem.message.empty()) throw Error(problem.message);
  }

  void read_header() {
    const size_t header_end = all_.find('\n');
    std::vector<std::string_view> fields;
    split(all_.substr(0, header_end), delimiter_, fields);
    header_.reserve(fields.size());
    for (auto f : fields) header_.emplace_back(text_of(trim(f)));
    BDL_CHECK(!all_.empty() && !header_.empty(), path_, ": empty (a header row is needed)");
    label_ = column(options_.label_column, "--label-column");
    names_ = schema_ ? schema_->features : options_.feature_columns;
    if (names_.empty()) {
      for (const auto& h : header_) {
        if (h != options_.label_column) names_.push_back(h);
      }
    }
    cols_.reserve(names_.size());
    for (const auto& n : names_) cols_.push_back(column(n, "--feature-columns"));
    BDL_CHECK(!cols_.empty(), path_, ": no feature columns");
    body_ = header_end == std::string_view::npos ? std::string_view() : all_.substr(header_end + 1);
  }

  // Byte ranges that start at line starts, one per thread, and their lines (a
  // blank line at the very end is not a row).
  void cut_lines() {
    const int threads = std::max<int>(
        1, options_.threads > 0 ? options_.threads
                                : static_cast<int>(std::thread::hardware_concurrency()));
    const size_t wanted = body_.size() < (1u << 20) ? 1 : static_cast<size_t>(threads);
    starts_ = {0};
    for (size_t t = 1; t < wanted; ++t) {
      const size_t nominal = body_.size() * t / wanted;
      const size_t nl = body_.find('\n', std::max(nominal, starts_.back()));
      if (nl == std::string_view::npos) break;
      if (nl + 1 < body_.size()) starts_.push_back(nl + 1);
    }
    starts_.push_back(body_.size());
    parts_.resize(starts_.size() - 1);
    each_part([&](size_t p) {
      std::string_view range = body_.substr(starts_[p], starts_[p + 1] - starts_[p]);
      while (!range.empty()) {
        const size_t nl = range.find('\n');
        parts_[p].lines.push_back(range.substr(0, nl));
        range = nl == std::string_view::npos ? std::string_view() : range.substr(nl + 1);
      }
      if (p + 1 == parts_.size()) {
        while (!parts_[p].lines.empty() && trim(parts_[p].lines.back()).empty()) {
          parts_[p].lines.pop_back();
        }
      }
    });
    first_row_.assign(parts_.size() + 1, 0);
    for (size_t p = 0; p < parts_.size(); ++p) {
      first_row_[p + 1] = first_row_[p] + static_cast<int64_t>(parts_[p].lines.size());
    }
    rows_ = first_row_.back();
    BDL_CHECK(rows_ > 0, path_, ": a header and no rows");
  }

  // Numbers into the features (NaN where missing), text fields marked.
  void parse_numbers() {
    features_ = Tensor({rows_, static_cast<int64_t>(width())});
    labels_.assign(static_cast<size_t>(rows_), 0.0);
    const float nan = std::numeric_limits<float>::quiet_NaN();
    each_part([&](size_t p) {
      Part& part = parts_[p];
      part.text.assign(width() + 1, 0);
      std::vector<std::string_view> f;
      for (size_t r = 0; r < part.lines.size(); ++r) {
        const int64_t row = first_row_[p] + static_cast<int64_t>(r);
        const int64_t line = row + 2;
        split(part.lines[r], delimiter_, f);
        if (f.size() != header_.size()) {
          part.problem.note(line, detail::concat(path_, ": line ", line, " has ", f.size(),
                                                 " fields, the header has ", header_.size()));
          continue;
        }
        for (size_t j = 0; j <= width(); ++j) {
          const std::string_view s = trim(f[column_index(j)]);
          double v = 0;
          const bool missing = is_missing(s);
          const bool numeric = !missing && number(s, v);
          if (!missing && !numeric) part.text[j] = 1;
          if (j < width()) {
            at(row, j) = missing ? nan : numeric ? static_cast<float>(v) : 0.f;
          } else if (missing) {
            part.problem.note(
                line, detail::concat(path_, ": line ", line, ", column '", options_.label_column,
                                     "': the label is missing"));
          } else {
            labels_[static_cast<size_t>(row)] = v;
          }
        }
      }
    });
    throw_first_problem();
  }

  // Text columns: categories in sorted order (or the training file's), then
  // each field's index.
  void encode_categories() {
    found_.features = names_;
    found_.label = options_.label_column;
    text_.assign(width() + 1, 0);
    for (const Part& part : parts_) {
      for (size_t j = 0; j <= width(); ++j) text_[j] |= part.text[j];
    }
    if (schema_) {
      for (size_t j = 0; j <= width(); ++j) {
        const bool categorical = j < width() ? schema_->categories.count(names_[j]) > 0
                                             : !schema_->label_classes.empty();
        BDL_CHECK(categorical || !text_[j], path_, ": column '", column_name(j),
                  "' holds text where the training file has numbers");
        text_[j] = categorical ? 1 : 0;
      }
    }
    categories_.assign(width() + 1, {});
    for (size_t j = 0; j <= width(); ++j) {
      if (!text_[j]) continue;
      if (schema_) {
        categories_[j] = j < width() ? schema_->categories.at(names_[j]) : schema_->label_classes;
        continue;
      }
      std::set<std::string> values;
      std::vector<std::string_view> f;
      for (const Part& part : parts_) {
        for (Line line : part.lines) {
          split(line, delimiter_, f);
          const std::string_view s = trim(f[column_index(j)]);
          if (!is_missing(s)) values.insert(text_of(s));
        }
      }
      categories_[j].assign(values.begin(), values.end());
    }
    each_part([&](size_t p) { index_text_fields(p); });
    throw_first_problem();
    for (size_t j = 0; j < width(); ++j) {
      if (text_[j]) found_.categories[names_[j]] = categories_[j];
    }
    found_.label_classes = categories_[width()];
  }

  void index_text_fields(size_t p) {
    std::vector<std::string_view> f;
    for (size_t r = 0; r < parts_[p].lines.size(); ++r) {
      const int64_t row = first_row_[p] + static_cast<int64_t>(r);
      bool split_done = false;
      for (size_t j = 0; j <= width(); ++j) {
        if (!text_[j]) continue;
        if (!split_done) split(parts_[p].lines[r], delimiter_, f);
        split_done = true;
        const std::string_view s = trim(f[column_index(j)]);
        if (is_missing(s)) continue;
        const std::string value = text_of(s);
        const auto& cats = categories_[j];
        const auto it = std::lower_bound(cats.begin(), cats.end(), value);
        if (it == cats.end() || *it != value) {
          parts_[p].problem.note(
              row + 2,
              detail::concat(path_, ": line ", row + 2, ", column '", column_name(j), "': '", value,
                             "' is not among the training file's ", cats.size(), " values"));
          continue;
        }
        const auto index = static_cast<double>(it - cats.begin());
        if (j < width()) {
          at(row, j) = static_cast<float>(index);
        } else {
          labels_[static_cast<size_t>(row)] = index;
        }
      }
    }
  }

  // Missing features: an error naming the first (by line, then column), or
  // filled with zero or the column's mean.
  void fill_missing() {
    if (options_.missing == Missing::error) {
      const float* v = features_.f32();
      const auto w = static_cast<int64_t>(width());
      for (int64_t i = 0; i < features_.numel(); ++i) {
        BDL_CHECK(!std::isnan(v[i]), path_, ": line ", i / w + 2, ", column '",
                  names_[static_cast<size_t>(i % w)],
                  "': a missing value (--missing zero or mean fills them)");
      }
      return;
    }
    for (size_t j = 0; j < width(); ++j) {
      double sum = 0;
      int64_t present = 0;
      for (int64_t r = 0; r < rows_; ++r) {
        if (!std::isnan(at(r, j))) {
          sum += at(r, j);
          ++present;
        }
      }
      const float fill = options_.missing == Missing::mean && present > 0
                             ? static_cast<float>(sum / static_cast<double>(present))
                             : 0.f;
      for (int64_t r = 0; r < rows_; ++r) {
        if (std::isnan(at(r, j))) at(r, j) = fill;
      }
    }
  }

  // Numeric features to mean 0 and deviation 1, with the training file's
  // statistics when a schema is given.
  void standardize() {
    found_.mean.assign(width(), 0.0);
    found_.std.assign(width(), 1.0);
    for (size_t j = 0; j < width(); ++j) {
      if (text_[j]) continue;
      if (schema_ && schema_->mean.size() == width()) {
        found_.mean[j] = schema_->mean[j];
        found_.std[j] = schema_->std[j];
      } else {
        double sum = 0, squares = 0;
        for (int64_t r = 0; r < rows_; ++r) {
          const double v = at(r, j);
          sum += v;
          squares += v * v;
        }
        const double mean = sum / static_cast<double>(rows_);
        const double var = std::max(squares / static_cast<double>(rows_) - mean * mean, 0.0);
        found_.mean[j] = mean;
        found_.std[j] = var > 0 ? std::sqrt(var) : 1.0;
      }
      const auto mean = static_cast<float>(found_.mean[j]);
      const auto inv = static_cast<float>(1.0 / found_.std[j]);
      for (int64_t r = 0; r < rows_; ++r) at(r, j) = (at(r, j) - mean) * inv;
    }
  }

  // The label: classes (text, or whole non-negative numbers) or values.
  Tensor label_targets() {
    bool classes = text_[width()] != 0;
    if (!classes) {
      classes = schema_ ? schema_->label_is_classes
                        : std::all_of(labels_.begin(), labels_.end(), [](double v) {
                            return v >= 0 && v < 1e9 && v == std::floor(v);
                          });
    }
    found_.label_is_classes = classes;
    if (!classes) {
      Tensor targets({rows_, 1});
      for (int64_t r = 0; r < rows_; ++r) {
        targets.f32()[r] = static_cast<float>(labels_[static_cast<size_t>(r)]);
      }
      return targets;
    }
    Tensor targets = Tensor::empty({rows_}, DType::i64);
    for (int64_t r = 0; r < rows_; ++r) {
      const double v = labels_[static_cast<size_t>(r)];
      BDL_CHECK(v >= 0 && v == std::floor(v), path_, ": line ", r + 2, ", column '",
                options_.label_column, "': ", v, " is not a class index (the training file's are)");
      targets.data<int64_t>()[r] = static_cast<int64_t>(v);
    }
    return targets;
  }

  const std::string& path_;
  const CsvOptions& options_;
  const CsvSchema* schema_;
  InputFile file_;
  std::string_view all_, body_;
  char delimiter_ = ',';
  std::vector<std::string> header_, names_;
  std::vector<size_t> cols_;
  size_t label_ = 0;
  std::vector<size_t> starts_;
  std::vector<Part> parts_;
  std::vector<int64_t> first_row_;
  int64_t rows_ = 0;
  Tensor features_;
  std::vector<double> labels_;
  std::vector<char> text_;  // per feature column, then the label: holds text
  std::vector<std::vector<std::string>> categories_;
  CsvSchema found_;
};

// Category index columns spread into one-hot columns (COLUMN=VALUE each).
Dataset one_hot_columns(const Dataset& d, CsvSchema& schema) {
  const Tensor& x = d.features();
  const int64_t n = x.size(0), width = x.size(1);
  std::vector<std::string> names;
  std::vector<int64_t> at(static_cast<size_t>(width)), count(static_cast<size_t>(width), 1);
  for (int64_t j = 0; j < width; ++j) {
    const std::string& column = schema.features[static_cast<size_t>(j)];
    at[static_cast<size_t>(j)] = static_cast<int64_t>(names.size());
    const auto cats = schema.categories.find(column);
    if (cats == schema.categories.end()) {
      names.push_back(column);
      continue;
    }
    count[static_cast<size_t>(j)] = static_cast<int64_t>(cats->second.size());
    for (const std::string& value : cats->second) {
      std::string name = column;
      name.append("=").append(value);
      names.push_back(std::move(name));
    }
  }
  const auto out_width = static_cast<int64_t>(names.size());
  Tensor y = Tensor::zeros({n, out_width});
  for (int64_t r = 0; r < n; ++r) {
    const float* src = x.f32() + r * width;
    float* dst = y.f32() + r * out_width;
    for (int64_t j = 0; j < width; ++j) {
      const auto k = static_cast<size_t>(j);
      if (schema.categories.count(schema.features[k]) == 0) {
        dst[at[k]] = src[j];
      } else {
        dst[at[k] + static_cast<int64_t>(src[j])] = 1.f;
      }
    }
  }
  // Standardisation statistics follow their columns (a one-hot column keeps 0
  // and 1, as category columns do).
  if (!schema.mean.empty()) {
    std::vector<double> mean(names.size(), 0.0), std(names.size(), 1.0);
    for (int64_t j = 0; j < width; ++j) {
      const auto k = static_cast<size_t>(j);
      if (count[k] == 1 && schema.categories.count(schema.features[k]) == 0) {
        mean[static_cast<size_t>(at[k])] = schema.mean[k];
        std[static_cast<size_t>(at[k])] = schema.std[k];
      }
    }
    schema.mean = std::move(mean);
    schema.std = std::move(std);
  }
  schema.features = std::move(names);
  Dataset out(y, d.targets(), d.name());
  return d.weights().defined() ? out.with_weights(d.weights()) : out;
}

}  // namespace

Dataset read_csv(const std::string& path, const CsvOptions& options, CsvSchema* schema_out,
                 const CsvSchema* schema) {
  if (!options.one_hot) return TableReader(path, options, schema).read(schema_out);
  // Read as indices (a test file with the training file's index schema), then
  // spread; the schema handed out describes the one-hot columns and keeps the
  // index schema's for reading test files.
  CsvSchema found;
  const CsvSchema* by_index = schema;
  CsvSchema index_schema;
  if (schema != nullptr && !schema->index_features.empty()) {
    index_schema = *schema;
    index_schema.features = schema->index_features;
    index_schema.mean = schema->index_mean;
    index_schema.std = schema->index_std;
    by_index = &index_schema;
  }
  Dataset d = TableReader(path, options, by_index).read(&found);
  const CsvSchema as_read = found;
  Dataset spread = one_hot_columns(d, found);
  found.index_features = as_read.features;
  found.index_mean = as_read.mean;
  found.index_std = as_read.std;
  if (schema_out != nullptr) *schema_out = found;
  return spread;
}

}  // namespace bdl::data
