#pragma once
// Typed errors. Every failure the library reports is a TensorError; the subclass says what kind
// of failure it is and the message says what was wrong and what was expected. The C API maps
// ErrorCode to status codes. The dispatcher prefixes messages with the op and its inputs.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace tenflowers {

enum class ErrorCode : int {
  Shape = 1,
  DType = 2,
  Device = 3,
  Index = 4,
  InvalidArgument = 5,
  OutOfMemory = 6,
  Io = 7,
  Unsupported = 8,
  Internal = 9,
};

class TensorError : public std::exception {
 public:
  TensorError(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}
  const char* what() const noexcept override { return message_.c_str(); }
  ErrorCode code() const noexcept { return code_; }
  // Prepends context ("op 'add' with inputs f32[2,3], f32[4]: ") while keeping the dynamic type,
  // so `catch (TensorError& e) { e.add_context(...); throw; }` rethrows the same error kind.
  void add_context(const std::string& context) { message_ = context + message_; }

 private:
  ErrorCode code_;
  std::string message_;
};

class ShapeError : public TensorError {
 public:
  explicit ShapeError(std::string message) : TensorError(ErrorCode::Shape, std::move(message)) {}
  ShapeError(std::string message, std::vector<int64_t> expected, std::vector<int64_t> actual);
  const std::vector<int64_t>& expected() const { return expected_; }
  const std::vector<int64_t>& actual() const { return actual_; }

 private:
  std::vector<int64_t> expected_, actual_;
};

#define TF_DEFINE_ERROR_(Name, Code)                                                         \
  class Name : public TensorError {                                                          \
   public:                                                                                   \
    explicit Name(std::string message) : TensorError(ErrorCode::Code, std::move(message)) {} \
  };

TF_DEFINE_ERROR_(DTypeError, DType)
TF_DEFINE_ERROR_(DeviceError, Device)
TF_DEFINE_ERROR_(IndexError, Index)
TF_DEFINE_ERROR_(InvalidArgument, InvalidArgument)
TF_DEFINE_ERROR_(OutOfMemoryError, OutOfMemory)
TF_DEFINE_ERROR_(IoError, Io)
TF_DEFINE_ERROR_(UnsupportedError, Unsupported)
TF_DEFINE_ERROR_(InternalError, Internal)
#undef TF_DEFINE_ERROR_

std::string format_dims(const std::vector<int64_t>& dims);  // "[2, 3]"

}  // namespace tenflowers

// Throws ExceptionType with a message built from the stream expression when cond is false.
#define TF_CHECK(cond, ExceptionType, ...)                            \
  do {                                                                \
    if (!(cond)) {                                                    \
      throw ExceptionType(::tenflowers::detail::concat(__VA_ARGS__)); \
    }                                                                 \
  } while (0)

#include <sstream>
namespace tenflowers::detail {
template <class... Parts>
std::string concat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}
}  // namespace tenflowers::detail
