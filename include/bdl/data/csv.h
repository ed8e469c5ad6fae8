#pragma once

// Tables in CSV or TSV files with a header row, read into a Dataset: features
// as f32 columns, the label as class indices or values. Parsing runs in
// parallel over byte ranges of the file.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "bdl/data/dataset.h"

namespace bdl::data {

enum class Missing { error, zero, mean };

struct CsvOptions {
  std::string label_column;                  // required
  std::vector<std::string> feature_columns;  // empty: every column but the label
  // An empty field (or NA, NaN, null): an error naming its line and column, or
  // filled with 0 or the column's mean over the rows that have it.
  Missing missing = Missing::error;
  // Numeric features standardised: (x - mean) / std with the column's mean and
  // standard deviation over the training file's rows (one pass), which a test
  // file read with the training schema reuses. Category indices are left as
  // they are.
  bool standardize = false;
  // Categorical feature columns as one-hot columns, one per category (of the
  // training file), instead of an index column each.
  bool one_hot = false;
  char delimiter = 0;  // 0: a tab for .tsv files, else a comma
  int threads = 0;     // 0: one per core
};

// What reading found: the columns' names in feature order, and for categorical
// columns (any field that is not a number) their values in index order.
struct CsvSchema {
  std::vector<std::string> features;  // with one_hot: COLUMN=VALUE for each category
  std::string label;
  std::map<std::string, std::vector<std::string>> categories;  // by column
  // The class names, in index order, when the label is a text column.
  std::vector<std::string> label_classes;
  bool label_is_classes = true;
  // With standardize: each feature's mean and standard deviation (0 and 1 for
  // category columns and constant columns).
  std::vector<double> mean, std;
  // With one_hot: the columns as read (before spreading), for reading a test
  // file with this schema.
  std::vector<std::string> index_features;
  std::vector<double> index_mean, index_std;
};

// Reads `path`. Categorical feature columns become indices (stored as f32, for
// Embedding layers), in sorted order of their values; a text label becomes class
// indices the same way, a label of whole non-negative numbers class indices,
// any other label values. With `schema` from the training file, a test file is
// read with the same columns and categories (a value the training file did not
// have is an error naming it). Errors name the file, the line and the column.
Dataset read_csv(const std::string& path, const CsvOptions& options,
                 CsvSchema* schema_out = nullptr, const CsvSchema* schema = nullptr);

}  // namespace bdl::data
