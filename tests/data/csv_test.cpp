// CSV and TSV tables (data::read_csv): numbers, categories, quotes, missing
// values by rule, a training file's schema applied to a test file, errors
// naming the line and column, and parallel parsing equal to serial.
#include "bdl/data/csv.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>

#include "support/errors.h"
#include "support/temp_dir.h"

namespace bdl::data {
namespace {

using testing::error_of;

class CsvTest : public ::testing::Test {
 protected:
  std::string write(const std::string& name, const std::string& text) {
    const std::string path = dir_.file(name);
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  testing::TempDir dir_{"bdl_csv"};
};

std::vector<float> values(const Tensor& t) { return {t.f32(), t.f32() + t.numel()}; }

TEST_F(CsvTest, NumbersCategoriesQuotesAndClasses) {
  const std::string path = write("t.csv",
                                 "amount,city,\"note\",label\r\n"
                                 "1.5,Paris,\"a, \"\"quoted\"\" note\",1\r\n"
                                 " -2 ,Berlin,x,0\r\n"
                                 "3e2,\"Paris\",y,2\r\n\r\n");
  CsvOptions o;
  o.label_column = "label";
  o.feature_columns = {"city", "amount"};
  CsvSchema schema;
  const Dataset d = read_csv(path, o, &schema);
  EXPECT_EQ(d.sample_shape(), Shape({2}));
  EXPECT_EQ(values(d.features()), (std::vector<float>{1, 1.5f, 0, -2, 1, 300}));
  ASSERT_EQ(d.target_kind(), TargetKind::classes);
  EXPECT_EQ(d.targets().data<int64_t>()[2], 2);
  EXPECT_EQ(schema.categories.at("city"), (std::vector<std::string>{"Berlin", "Paris"}));
  // Every other column by default: the quoted one is text too.
  o.feature_columns.clear();
  const Dataset all = read_csv(path, o, &schema);
  EXPECT_EQ(all.sample_shape(), Shape({3}));
  EXPECT_EQ(schema.categories.at("note")[0], "a, \"quoted\" note");
}

TEST_F(CsvTest, TextLabelsAreClassesAndFractionsAreValues) {
  CsvOptions o;
  o.label_column = "y";
  CsvSchema schema;
  const Dataset text = read_csv(write("a.tsv", "x\ty\n1\tcat\n2\tdog\n3\tcat\n"), o, &schema);
  EXPECT_EQ(schema.label_classes, (std::vector<std::string>{"cat", "dog"}));
  EXPECT_EQ(text.targets().data<int64_t>()[1], 1);
  const Dataset v = read_csv(write("b.csv", "x,y\n1,0.5\n2,-1\n"), o);
  ASSERT_EQ(v.target_kind(), TargetKind::values);
  EXPECT_EQ(values(v.targets()), (std::vector<float>{0.5f, -1.f}));
}

TEST_F(CsvTest, MissingValuesAreNamedOrFilled) {
  const std::string path = write("m.csv", "a,b,y\n1,,0\n3,4,1\nNA,8,0\n");
  CsvOptions o;
  o.label_column = "y";
  EXPECT_EQ(error_of([&] { read_csv(path, o); }),
            path + ": line 2, column 'b': a missing value (--missing zero or mean fills them)");
  o.missing = Missing::zero;
  EXPECT_EQ(values(read_csv(path, o).features()), (std::vector<float>{1, 0, 3, 4, 0, 8}));
  o.missing = Missing::mean;
  EXPECT_EQ(values(read_csv(path, o).features()), (std::vector<float>{1, 6, 3, 4, 2, 8}));
  EXPECT_EQ(error_of([&] { read_csv(write("l.csv", "a,y\n1,1\n2,\n"), o); }),
            dir_.file("l.csv") + ": line 3, column 'y': the label is missing");
}

TEST_F(CsvTest, BadRowsAndNamesAreNamed) {
  CsvOptions o;
  o.label_column = "y";
  const std::string path = write("f.csv", "a,b,y\n1,2,0\n1,2\n");
  EXPECT_EQ(error_of([&] { read_csv(path, o); }), path + ": line 3 has 2 fields, the header has 3");
  o.label_column = "target";
  EXPECT_NE(error_of([&] { read_csv(path, o); }).find(": no column 'target' (--label-column)"),
            std::string::npos);
  o.label_column = "y";
  o.feature_columns = {"c"};
  EXPECT_NE(error_of([&] { read_csv(path, o); }).find(": no column 'c' (--feature-columns)"),
            std::string::npos);
  o.feature_columns = {};
  EXPECT_NE(error_of([&] { read_csv(write("e.csv", ""), o); }).find("empty"), std::string::npos);
  EXPECT_NE(error_of([&] { read_csv(write("h.csv", "a,y\n"), o); }).find("a header and no rows"),
            std::string::npos);
}

TEST_F(CsvTest, ATestFileTakesTheTrainingFilesSchema) {
  CsvOptions o;
  o.label_column = "y";
  CsvSchema schema;
  read_csv(write("train.csv", "c,n,y\nred,1,a\nblue,2,b\n"), o, &schema);
  const Dataset test = read_csv(write("test.csv", "y,n,c\nb,5,red\n"), o, nullptr, &schema);
  EXPECT_EQ(values(test.features()), (std::vector<float>{1, 5}));
  EXPECT_EQ(test.targets().data<int64_t>()[0], 1);
  const std::string bad = write("bad.csv", "c,n,y\ngreen,1,a\n");
  EXPECT_EQ(error_of([&] { read_csv(bad, o, nullptr, &schema); }),
            bad + ": line 2, column 'c': 'green' is not among the training file's 2 values");
  const std::string text = write("text.csv", "c,n,y\nred,many,a\n");
  EXPECT_EQ(error_of([&] { read_csv(text, o, nullptr, &schema); }),
            text + ": column 'n' holds text where the training file has numbers");
}

TEST_F(CsvTest, StandardisesWithTheTrainingFilesStatistics) {
  CsvOptions o;
  o.label_column = "y";
  o.standardize = true;
  CsvSchema schema;
  const Dataset d = read_csv(write("s.csv", "a,c,y\n1,u,0\n3,v,1\n5,u,0\n7,v,1\n"), o, &schema);
  const double s = std::sqrt(5.0);  // the deviation of 1, 3, 5, 7
  const std::vector<float> x = values(d.features());
  for (int r = 0; r < 4; ++r) EXPECT_NEAR(x[2 * r], (2 * r + 1 - 4) / s, 1e-6);
  EXPECT_EQ(x[1], 0.f) << "category indices stay as they are";
  EXPECT_EQ(x[3], 1.f);
  const Dataset test = read_csv(write("s2.csv", "a,c,y\n4,v,1\n"), o, nullptr, &schema);
  EXPECT_EQ(values(test.features()), (std::vector<float>{0.f, 1.f}));
}

TEST_F(CsvTest, OneHotColumnsForTextColumns) {
  CsvOptions o;
  o.label_column = "y";
  o.one_hot = true;
  o.standardize = true;
  CsvSchema schema;
  const Dataset d =
      read_csv(write("h.csv", "a,c,b,y\n1,u,x,0\n3,w,x,1\n5,v,z,0\n7,u,x,1\n"), o, &schema);
  EXPECT_EQ(schema.features, (std::vector<std::string>{"a", "c=u", "c=v", "c=w", "b=x", "b=z"}));
  EXPECT_EQ(d.sample_shape(), Shape({6}));
  const std::vector<float> x = values(d.features());
  const double s = std::sqrt(5.0);
  EXPECT_NEAR(x[0], -3 / s, 1e-6);  // numeric columns still standardised
  EXPECT_EQ(std::vector<float>(x.begin() + 1, x.begin() + 6), (std::vector<float>{1, 0, 0, 1, 0}));
  EXPECT_EQ(std::vector<float>(x.begin() + 7, x.begin() + 12), (std::vector<float>{0, 0, 1, 1, 0}));
  // A test file with the training file's categories and statistics.
  const Dataset test = read_csv(write("h2.csv", "y,b,c,a\n1,z,v,4\n"), o, nullptr, &schema);
  EXPECT_EQ(values(test.features()), (std::vector<float>{0, 0, 1, 0, 0, 1}));
  const std::string bad = write("h3.csv", "a,c,b,y\n1,q,x,0\n");
  EXPECT_NE(error_of([&] {
              read_csv(bad, o, nullptr, &schema);
            }).find("column 'c': 'q' is not among the training file's 3 values"),
            std::string::npos);
}

// Several MiB parsed by 4 threads equals 1 thread, and an error deep in the
// file names its line.
TEST_F(CsvTest, ParallelParsingEqualsSerial) {
  std::string text = "id,kind,v1,v2,label\n";
  for (int i = 0; i < 120000; ++i) {
    text += std::to_string(i) + "," + (i % 3 == 0 ? "x" : "y") + "," + std::to_string(i * 0.25) +
            "," + std::to_string(-i) + "," + std::to_string(i % 7) + "\n";
  }
  const std::string path = write("big.csv", text);
  CsvOptions o;
  o.label_column = "label";
  o.threads = 1;
  const Dataset one = read_csv(path, o);
  o.threads = 4;
  const Dataset four = read_csv(path, o);
  ASSERT_EQ(one.size(), 120000);
  ASSERT_EQ(four.features().shape(), one.features().shape());
  EXPECT_EQ(std::memcmp(one.features().f32(), four.features().f32(),
                        static_cast<size_t>(one.features().numel()) * 4),
            0);
  EXPECT_EQ(std::memcmp(one.targets().data<int64_t>(), four.targets().data<int64_t>(), 120000 * 8),
            0);
  text += "7,x,1\n";
  EXPECT_EQ(error_of([&] { read_csv(write("bad.csv", text), o); }),
            dir_.file("bad.csv") + ": line 120002 has 3 fields, the header has 5");
}

}  // namespace
}  // namespace bdl::data
