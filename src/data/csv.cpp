// CSV (RFC 4180 quoting) of numbers into a feature matrix and an optional integer label column.
#include <charconv>
#include <string_view>

#include "src/data/gzip.hpp"
#include "tenflowers/data/readers.hpp"

namespace tenflowers::data {
namespace {

struct Field {
  std::string text;
  int64_t line;  // where the field starts, 1-based
};
using Record = std::vector<Field>;

class CsvParser {
 public:
  CsvParser(std::string_view text, char delimiter, const std::string& what)
      : text_(text), delimiter_(delimiter), what_(what) {
    if (text_.starts_with("\xEF\xBB\xBF")) text_.remove_prefix(3);  // UTF-8 byte order mark
  }

  // The next record, skipping blank lines; false at the end of the text.
  bool next(Record& record) {
    record.clear();
    while (pos_ < text_.size() && at_line_end()) consume_line_end();
    if (pos_ >= text_.size()) return false;
    record_line_ = line_;
    for (;;) {
      record.push_back(
          {peek() == '"' ? quoted_field(record.size() + 1) : plain_field(record.size() + 1),
           field_line_});
      if (pos_ < text_.size() && text_[pos_] == delimiter_) {
        ++pos_;
        continue;
      }
      if (pos_ < text_.size()) consume_line_end();
      return true;
    }
  }

  int64_t record_line() const { return record_line_; }

 private:
  [[noreturn]] void fail(int64_t line, size_t column, const std::string& message) const {
    throw IoError(tenflowers::detail::concat("'", what_, "' line ", line, ", column ", column, ": ",
                                             message));
  }
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  bool at_line_end() const {
    return text_[pos_] == '\n' ||
           (text_[pos_] == '\r' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n');
  }
  void consume_line_end() {
    pos_ += text_[pos_] == '\r' ? 2 : 1;
    ++line_;
  }

  std::string plain_field(size_t column) {
    field_line_ = line_;
    const size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] != delimiter_ && !at_line_end()) {
      if (text_[pos_] == '"') fail(line_, column, "a quote inside an unquoted field");
      if (text_[pos_] == '\r') fail(line_, column, "a carriage return not followed by a newline");
      ++pos_;
    }
    return std::string(text_.substr(start, pos_ - start));
  }

  std::string quoted_field(size_t column) {
    field_line_ = line_;
    ++pos_;  // the opening quote
    std::string out;
    for (;;) {
      if (pos_ >= text_.size()) fail(field_line_, column, "the quoted field is never closed");
      const char c = text_[pos_++];
      if (c == '"') {
        if (peek() != '"') break;
        ++pos_;  // a doubled quote stands for one
      } else if (c == '\n') {
        ++line_;
      }
      out += c;
    }
    if (pos_ < text_.size() && text_[pos_] != delimiter_ && !at_line_end()) {
      fail(line_, column, "unexpected text after a closing quote");
    }
    return out;
  }

  std::string_view text_;
  char delimiter_;
  const std::string& what_;
  size_t pos_ = 0;
  int64_t line_ = 1, record_line_ = 1, field_line_ = 1;
};

std::string_view trimmed(std::string_view s) {
  const size_t first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

// A whole-field number: from_chars syntax with an optional leading '+'.
template <class T>
std::optional<T> parse_number(std::string_view text) {
  text = trimmed(text);
  if (text.starts_with('+')) text.remove_prefix(1);
  if (text.empty() || text.starts_with('+')) return std::nullopt;
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

bool all_numbers(const Record& record) {
  for (const Field& f : record) {
    if (!parse_number<double>(f.text)) return false;
  }
  return true;
}

// The 0-based label column, or -1 for none.
int64_t label_index(const CsvOptions& options, const std::vector<std::string>& header,
                    size_t columns, const std::string& what) {
  if (const auto* name = std::get_if<std::string>(&options.label_column)) {
    TF_CHECK(!header.empty(), InvalidArgument, "load_csv '", what, "': the label column '", *name,
             "' is named but the file has no header");
    for (size_t i = 0; i < header.size(); ++i) {
      if (trimmed(header[i]) == trimmed(*name)) return static_cast<int64_t>(i);
    }
    std::string available;
    for (const std::string& h : header) available += (available.empty() ? "'" : ", '") + h + "'";
    throw InvalidArgument(tenflowers::detail::concat("load_csv '", what, "': no column is named '",
                                                     *name, "'; the header has ", available));
  }
  if (const auto* index = std::get_if<int64_t>(&options.label_column)) {
    const auto n = static_cast<int64_t>(columns);
    TF_CHECK(*index >= -n && *index < n, InvalidArgument, "load_csv '", what,
             "': label column index ", *index, " is out of range for ", n, " columns");
    return *index < 0 ? *index + n : *index;
  }
  return -1;
}

}  // namespace

CsvData load_csv(const std::filesystem::path& path, const CsvOptions& options) {
  const std::string what = path.string();
  TF_CHECK(is_floating(options.dtype), InvalidArgument,
           "load_csv: the feature dtype must be floating, got ", dtype_name(options.dtype));
  TF_CHECK(options.delimiter != '"' && options.delimiter != '\n' && options.delimiter != '\r',
           InvalidArgument, "load_csv: the delimiter cannot be a quote or a line break");
  const std::vector<std::byte> bytes = detail::read_maybe_gzipped(path);
  CsvParser parser(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
                   options.delimiter, what);

  Record record;
  TF_CHECK(parser.next(record), IoError, "'", what, "' has no rows");
  const size_t columns = record.size();
  CsvData out;
  std::vector<std::string> header;
  const bool has_header = options.header == CsvHeader::Yes ||
                          (options.header == CsvHeader::Auto && !all_numbers(record));
  if (has_header) {
    for (Field& f : record) header.push_back(std::move(f.text));
  }
  const int64_t label = label_index(options, header, columns, what);
  for (size_t i = 0; i < header.size(); ++i) {
    if (static_cast<int64_t>(i) != label) out.feature_names.push_back(header[i]);
  }

  std::vector<double> features;
  std::vector<int64_t> labels;
  int64_t rows = 0;
  for (bool have = !has_header || parser.next(record); have; have = parser.next(record)) {
    TF_CHECK(record.size() == columns, IoError, "'", what, "' line ", parser.record_line(),
             ", column ", std::min(record.size(), columns) + 1, ": the row has ", record.size(),
             " fields but the first row has ", columns);
    for (size_t c = 0; c < columns; ++c) {
      const Field& f = record[c];
      if (static_cast<int64_t>(c) == label) {
        const std::optional<int64_t> value = parse_number<int64_t>(f.text);
        TF_CHECK(value, IoError, "'", what, "' line ", f.line, ", column ", c + 1, ": label '",
                 f.text, "' is not an integer");
        labels.push_back(*value);
      } else {
        const std::optional<double> value = parse_number<double>(f.text);
        TF_CHECK(value, IoError, "'", what, "' line ", f.line, ", column ", c + 1, ": '", f.text,
                 "' is not a number");
        features.push_back(*value);
      }
    }
    ++rows;
  }
  const int64_t feature_columns = static_cast<int64_t>(columns) - (label >= 0 ? 1 : 0);
  out.features = Tensor::from_vec(features, {rows, feature_columns}).cast(options.dtype);
  if (label >= 0) out.labels = Tensor::from_vec(labels, {rows});
  return out;
}

}  // namespace tenflowers::data
