#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>

#include "tenflowers/data/readers.hpp"
#include "tests/data/test_util.hpp"

namespace tenflowers::data {
namespace {

CsvData load_text(const test::ScratchDir& dir, const std::string& text,
                  const CsvOptions& options = {}) {
  test::write_bytes(dir / "data.csv", text);
  return load_csv(dir / "data.csv", options);
}

// Expects IoError whose message names `line` and `column`.
void expect_error_at(const test::ScratchDir& dir, const std::string& text, int line, int column,
                     const CsvOptions& options = {}) {
  try {
    load_text(dir, text, options);
    ADD_FAILURE() << "expected IoError for:\n" << text;
  } catch (const IoError& e) {
    const std::string where = "line " + std::to_string(line) + ", column " + std::to_string(column);
    EXPECT_NE(std::string(e.what()).find(where), std::string::npos)
        << e.what() << "\nexpected " << where;
  }
}

TEST(Csv, RandomNumbersRoundTripExactly) {
  test::ScratchDir dir;
  std::mt19937_64 gen(5);
  std::normal_distribution<double> dist(0, 1e3);
  const int rows = 50, cols = 4;
  std::vector<double> expected;
  std::vector<int64_t> labels;
  std::string text = "a,b,label,c,d\n";
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      const double v = dist(gen);
      expected.push_back(v);
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.17g", v);
      text += buf;
      text += ',';
      if (c == 1) {
        labels.push_back(static_cast<int64_t>(gen() % 2001) - 1000);
        text += std::to_string(labels.back()) + ",";
      }
    }
    text.back() = '\n';
  }
  const CsvData data =
      load_text(dir, text, {.label_column = std::string("label"), .dtype = DType::F64});
  EXPECT_EQ(data.feature_names, std::vector<std::string>({"a", "b", "c", "d"}));
  EXPECT_EQ(data.features.shape(), Dims({rows, cols}));
  EXPECT_EQ(data.features.to_vector<double>(), expected);
  EXPECT_EQ(data.labels.dtype(), DType::I64);
  EXPECT_EQ(data.labels.to_vector<int64_t>(), labels);
  // The same by index (negative counts from the end: -3 is "label"), and in f32.
  const CsvData by_index = load_text(dir, text, {.label_column = int64_t{-3}});
  EXPECT_EQ(by_index.labels.to_vector<int64_t>(), labels);
  EXPECT_EQ(by_index.features.dtype(), DType::F32);
  std::vector<float> as_float(expected.begin(), expected.end());
  EXPECT_EQ(by_index.features.to_vector<float>(), as_float);
}

TEST(Csv, GzippedFilesAreInflated) {
  test::ScratchDir dir;
  test::write_gzip(dir / "data.csv.gz", "x,y\n1,2\n3,4\n");
  const CsvData data = load_csv(dir / "data.csv.gz");
  EXPECT_EQ(data.features.to_vector<float>(), std::vector<float>({1, 2, 3, 4}));
  EXPECT_EQ(data.feature_names, std::vector<std::string>({"x", "y"}));
}

TEST(Csv, HeaderDetectionDelimitersAndLineEndings) {
  test::ScratchDir dir;
  // No header: every field of the first row is a number.
  CsvData data = load_text(dir, "1;2\r\n\r\n3;+4.5e1\r\n5; nan \r\n", {.delimiter = ';'});
  EXPECT_TRUE(data.feature_names.empty());
  EXPECT_EQ(data.features.shape(), Dims({3, 2}));
  const std::vector<float> v = data.features.to_vector<float>();
  EXPECT_EQ(std::vector<float>(v.begin(), v.begin() + 5), std::vector<float>({1, 2, 3, 45, 5}));
  EXPECT_TRUE(std::isnan(v[5]));
  EXPECT_FALSE(data.labels.defined());
  // Forced header over a numeric first row; no trailing newline; a byte order mark.
  data = load_text(dir,
                   "\xEF\xBB\xBF"
                   "10,20\n1,2",
                   {.header = CsvHeader::Yes});
  EXPECT_EQ(data.feature_names, std::vector<std::string>({"10", "20"}));
  EXPECT_EQ(data.features.to_vector<float>(), std::vector<float>({1, 2}));
  // A header only gives zero rows.
  data = load_text(dir, "p,q,r\n");
  EXPECT_EQ(data.features.shape(), Dims({0, 3}));
  // header = No with a text first row: the text is data, so an error.
  expect_error_at(dir, "p,q\n1,2\n", 1, 1, {.header = CsvHeader::No});
}

TEST(Csv, QuotedFieldsFollowRfc4180) {
  test::ScratchDir dir;
  const std::string text =
      "\"name, with comma\",\"say \"\"hi\"\"\",\"multi\nline\"\n"
      "\"1\",2,\"3\"\n"
      "4,5,6\n";
  const CsvData data = load_text(dir, text);
  EXPECT_EQ(data.feature_names,
            std::vector<std::string>({"name, with comma", "say \"hi\"", "multi\nline"}));
  EXPECT_EQ(data.features.to_vector<float>(), std::vector<float>({1, 2, 3, 4, 5, 6}));
  // Line numbers count the physical lines, including the one inside the quoted header.
  expect_error_at(dir, text + "7,x,9\n", 5, 2);
  expect_error_at(dir, "a,b\n1,\"2\n", 2, 2);     // never closed
  expect_error_at(dir, "a,b\n1,\"2\"x\n", 2, 2);  // text after the closing quote
  expect_error_at(dir, "a,b\n1,2\"3\n", 2, 2);    // a quote inside a plain field
}

TEST(Csv, BadRowsNameLineAndColumn) {
  test::ScratchDir dir;
  expect_error_at(dir, "a,b,c\n1,2,3\n4,5\n", 3, 3);      // ragged: too few
  expect_error_at(dir, "a,b,c\n1,2,3\n4,5,6,7\n", 3, 4);  // ragged: too many
  expect_error_at(dir, "a,b\n1,2\n3,\n", 3, 2);           // empty field
  expect_error_at(dir, "a,b\n1,2\n3,4x\n", 3, 2);         // not a number
  expect_error_at(dir, "a,b\n1,2\n3,0x10\n", 3, 2);       // no hexadecimal
  expect_error_at(dir, "a,l\n1,2\n3,4.5\n", 3, 2, {.label_column = std::string("l")});
  EXPECT_THROW(load_text(dir, ""), IoError);
  EXPECT_THROW(load_text(dir, "\n\n"), IoError);
  EXPECT_THROW(load_text(dir, "1,2\n", {.label_column = std::string("x")}), InvalidArgument);
  EXPECT_THROW(load_text(dir, "a,b\n1,2\n", {.label_column = std::string("x")}), InvalidArgument);
  EXPECT_THROW(load_text(dir, "a,b\n1,2\n", {.label_column = int64_t{2}}), InvalidArgument);
  EXPECT_THROW(load_text(dir, "a,b\n1,2\n", {.dtype = DType::I32}), InvalidArgument);
  EXPECT_THROW(load_text(dir, "a,b\n1,2\n", {.delimiter = '"'}), InvalidArgument);
  EXPECT_THROW(load_csv(dir / "missing.csv"), IoError);
}

}  // namespace
}  // namespace tenflowers::data
