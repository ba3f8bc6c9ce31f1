#include "tenflowers/io/safetensors.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string_view>
#include <unordered_map>

#include "src/core/api/op_call.hpp"
#include "tenflowers/io/file.hpp"

namespace tenflowers::io {

static_assert(std::endian::native == std::endian::little,
              "safetensors stores little-endian data; big-endian hosts would need byte swaps");

namespace {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

constexpr uint64_t kMaxHeaderBytes = 100'000'000;  // the Python package's limit
constexpr std::string_view kMetadataKey = "__metadata__";

// The format's dtype names in the Python package's writing order (largest item first).
struct DTypeName {
  DType dtype;
  std::string_view name;
};
constexpr std::array<DTypeName, 9> kDTypeNames = {{{DType::I64, "I64"},
                                                   {DType::F64, "F64"},
                                                   {DType::F32, "F32"},
                                                   {DType::I32, "I32"},
                                                   {DType::BF16, "BF16"},
                                                   {DType::F16, "F16"},
                                                   {DType::I8, "I8"},
                                                   {DType::U8, "U8"},
                                                   {DType::Bool, "BOOL"}}};
// Dtypes the format defines that tenflowers has no counterpart for.
constexpr std::array<std::string_view, 11> kUnsupportedDTypeNames = {
    "F8_E5M2", "F8_E4M3", "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4", "I16", "U16", "U32", "U64", "C64"};

size_t write_rank(DType dtype) {
  for (size_t i = 0; i < kDTypeNames.size(); ++i) {
    if (kDTypeNames[i].dtype == dtype) return i;
  }
  throw_unsupported_dtype("safetensors", dtype);
}

std::string_view format_name(DType dtype) {
  return kDTypeNames[write_rank(dtype)].name;
}

// One tensor's header entry, validated against itself (not yet against the buffer).
struct Entry {
  std::string name;
  DType dtype;
  Dims shape;
  uint64_t begin, end;
};

// Builds error messages that say where: the file, then the tensor or header position.
class Context {
 public:
  explicit Context(const std::string& source) : source_(source) {}
  template <class... Parts>
  [[noreturn]] void fail(const Parts&... parts) const {
    throw IoError(::tenflowers::detail::concat("safetensors file '", source_, "': ", parts...));
  }
  template <class... Parts>
  [[noreturn]] void unsupported(const Parts&... parts) const {
    throw UnsupportedError(
        ::tenflowers::detail::concat("safetensors file '", source_, "': ", parts...));
  }

 private:
  const std::string& source_;
};

// A JSON value for an error message, cut short: a malformed header can be 100 MB.
std::string brief(const Json& value) {
  std::string text = value.dump();
  constexpr size_t kMax = 60;
  if (text.size() > kMax) text = text.substr(0, kMax) + "...";
  return text;
}

uint64_t read_le_u64(const std::byte* p) {
  uint64_t value;
  std::memcpy(&value, p, sizeof(value));
  return value;
}

DType parse_dtype(const Json& value, const std::string& name, const Context& where) {
  if (!value.is_string())
    where.fail("tensor '", name, "': dtype must be a string, got ", brief(value));
  const auto& text = value.get_ref<const std::string&>();
  for (const DTypeName& d : kDTypeNames) {
    if (d.name == text) return d.dtype;
  }
  if (std::find(kUnsupportedDTypeNames.begin(), kUnsupportedDTypeNames.end(), text) !=
      kUnsupportedDTypeNames.end()) {
    where.unsupported("tensor '", name, "' has dtype ", text,
                      ", which tenflowers does not support (supported: BOOL U8 I8 I32 I64 F16 "
                      "BF16 F32 F64)");
  }
  where.fail("tensor '", name, "': unknown dtype ", brief(value));
}

uint64_t parse_unsigned(const Json& value, const std::string& name, std::string_view field,
                        const Context& where) {
  if (!value.is_number_unsigned()) {
    where.fail("tensor '", name, "': ", field, " must hold non-negative integers, got ",
               brief(value));
  }
  return value.get<uint64_t>();
}

Dims parse_shape(const Json& value, const std::string& name, const Context& where) {
  if (!value.is_array())
    where.fail("tensor '", name, "': shape must be an array, got ", brief(value));
  Dims shape;
  // The product of the non-zero extents must fit in int64, so strides stay representable even
  // for tensors with no elements.
  uint64_t product = 1;
  for (const Json& extent : value) {
    const uint64_t e = parse_unsigned(extent, name, "shape", where);
    if (e > static_cast<uint64_t>(INT64_MAX) ||
        (e > 0 && __builtin_mul_overflow(product, e, &product)) ||
        product > static_cast<uint64_t>(INT64_MAX)) {
      where.fail("tensor '", name, "': shape ", brief(value),
                 " has more elements than int64 can count");
    }
    shape.push_back(static_cast<int64_t>(e));
  }
  return shape;
}

Entry parse_entry(const std::string& name, const Json& info, const Context& where) {
  if (!info.is_object()) {
    where.fail("tensor '", name, "': expected an object with dtype, shape and data_offsets, got ",
               info.type_name());
  }
  for (const auto& [key, value] : info.items()) {
    if (key != "dtype" && key != "shape" && key != "data_offsets") {
      where.fail("tensor '", name, "': unexpected key '", key,
                 "' (expected dtype, shape and data_offsets)");
    }
  }
  for (const char* key : {"dtype", "shape", "data_offsets"}) {
    if (!info.contains(key)) where.fail("tensor '", name, "': missing key '", key, "'");
  }
  Entry entry{name, parse_dtype(info["dtype"], name, where),
              parse_shape(info["shape"], name, where), 0, 0};
  const Json& offsets = info["data_offsets"];
  if (!offsets.is_array() || offsets.size() != 2) {
    where.fail("tensor '", name, "': data_offsets must be [begin, end], got ", brief(offsets));
  }
  entry.begin = parse_unsigned(offsets[0], name, "data_offsets", where);
  entry.end = parse_unsigned(offsets[1], name, "data_offsets", where);
  if (entry.begin > entry.end) {
    where.fail("tensor '", name, "': data_offsets ", brief(offsets), " end before they begin");
  }
  const uint64_t itemsize = dtype_size(entry.dtype);
  uint64_t nbytes = 0;
  if (__builtin_mul_overflow(static_cast<uint64_t>(entry.shape.numel()), itemsize, &nbytes) ||
      nbytes != entry.end - entry.begin) {
    where.fail("tensor '", name, "': data_offsets ", brief(offsets), " span ",
               entry.end - entry.begin, " bytes but shape ", entry.shape, " of ",
               format_name(entry.dtype), " needs ", entry.shape.numel(), " x ", itemsize, " bytes");
  }
  return entry;
}

SafetensorsMetadata parse_metadata(const Json& value, const Context& where) {
  if (!value.is_object()) {
    where.fail("__metadata__ must be an object of strings, got ", value.type_name());
  }
  SafetensorsMetadata metadata;
  for (const auto& [key, text] : value.items()) {
    if (!text.is_string()) {
      where.fail("__metadata__ value of '", key, "' must be a string, got ", text.type_name());
    }
    metadata.emplace(key, text.get<std::string>());
  }
  return metadata;
}

// The header's JSON, rejecting duplicate top-level names (which JSON parsers merge silently).
Json parse_header_json(std::span<const std::byte> header, const Context& where) {
  std::set<std::string> names;
  std::optional<std::string> duplicate;
  const auto callback = [&](int depth, Json::parse_event_t event, Json& parsed) {
    if (event == Json::parse_event_t::key && depth == 1 && !duplicate &&
        !names.insert(parsed.get<std::string>()).second) {
      duplicate = parsed.get<std::string>();
    }
    return true;
  };
  const auto* text = reinterpret_cast<const char*>(header.data());
  Json root;
  try {
    root = Json::parse(text, text + header.size(), callback);
  } catch (const Json::exception& e) {
    where.fail("the header is not valid JSON: ", e.what());
  }
  if (duplicate) where.fail("the header names tensor '", *duplicate, "' twice");
  if (!root.is_object()) where.fail("the header must be a JSON object, got ", root.type_name());
  return root;
}

// Entries must tile the buffer exactly: sorted by offset, each begins where the previous ends.
void check_coverage(std::vector<const Entry*> entries, uint64_t buffer_size, const Context& where) {
  std::sort(entries.begin(), entries.end(), [](const Entry* a, const Entry* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  uint64_t covered = 0;
  const Entry* previous = nullptr;
  for (const Entry* e : entries) {
    if (e->end > buffer_size) {
      where.fail("tensor '", e->name, "': data_offsets [", e->begin, ", ", e->end,
                 "] run past the end of the ", buffer_size, "-byte data buffer");
    }
    if (e->begin < covered) {
      where.fail("tensor '", e->name, "': data_offsets [", e->begin, ", ", e->end,
                 "] overlap tensor '", previous->name, "' at [", previous->begin, ", ",
                 previous->end, "]");
    }
    if (e->begin > covered) {
      where.fail("bytes [", covered, ", ", e->begin, ") of the data buffer belong to no tensor");
    }
    covered = e->end;
    previous = e;
  }
  if (covered != buffer_size) {
    where.fail("bytes [", covered, ", ", buffer_size, ") of the data buffer belong to no tensor");
  }
}

Tensor make_tensor(const Entry& entry, const std::byte* data, const Context& where) {
  if (entry.dtype == DType::Bool) {
    for (uint64_t i = 0; i < entry.end - entry.begin; ++i) {
      const auto byte = std::to_integer<unsigned>(data[i]);
      if (byte > 1) {
        where.fail("tensor '", entry.name, "': BOOL element ", i, " is ", byte,
                   " (expected 0 or 1)");
      }
    }
  }
  Tensor tensor = Tensor::empty(entry.shape, entry.dtype, Device::cpu());
  if (entry.end > entry.begin) std::memcpy(tensor.data_ptr(), data, entry.end - entry.begin);
  return tensor;
}

}  // namespace

SafetensorsContents parse_safetensors(std::span<const std::byte> bytes, const std::string& source) {
  const Context where(source);
  if (bytes.size() < 8) {
    where.fail("the file has ", bytes.size(), " bytes, fewer than the 8-byte header length");
  }
  const uint64_t header_size = read_le_u64(bytes.data());
  if (header_size > kMaxHeaderBytes) {
    where.fail("header length ", header_size, " exceeds the limit of ", kMaxHeaderBytes, " bytes");
  }
  if (header_size > bytes.size() - 8) {
    where.fail("header length ", header_size, " runs past the end of the ", bytes.size(),
               "-byte file");
  }
  const Json root = parse_header_json(bytes.subspan(8, header_size), where);

  SafetensorsContents contents;
  std::vector<Entry> entries;
  entries.reserve(root.size());
  for (const auto& [key, value] : root.items()) {
    if (key == kMetadataKey) {
      contents.metadata = parse_metadata(value, where);
    } else {
      entries.push_back(parse_entry(key, value, where));
    }
  }
  const std::span<const std::byte> buffer = bytes.subspan(8 + header_size);
  std::vector<const Entry*> order;
  for (const Entry& e : entries) order.push_back(&e);
  check_coverage(order, buffer.size(), where);

  // The JSON object iterates its keys sorted, so the tensors come out sorted by name.
  contents.tensors.reserve(entries.size());
  for (const Entry& e : entries) {
    contents.tensors.emplace_back(e.name, make_tensor(e, buffer.data() + e.begin, where));
  }
  return contents;
}

std::vector<std::byte> serialize_safetensors(const NamedTensors& tensors,
                                             const SafetensorsMetadata& metadata) {
  std::set<std::string_view> names;
  std::vector<std::pair<std::string_view, Tensor>> ordered;
  ordered.reserve(tensors.size());
  for (const auto& [name, tensor] : tensors) {
    TF_CHECK(name != kMetadataKey, InvalidArgument,
             "save_safetensors: '__metadata__' is reserved and cannot name a tensor");
    TF_CHECK(names.insert(name).second, InvalidArgument, "save_safetensors: tensor name '", name,
             "' appears twice");
    TF_CHECK(tensor.defined(), InvalidArgument, "save_safetensors: tensor '", name,
             "' is undefined");
    write_rank(tensor.dtype());
    ordered.emplace_back(name, tensor.cpu().contiguous());
  }
  std::sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) {
    const size_t ra = write_rank(a.second.dtype()), rb = write_rank(b.second.dtype());
    return ra != rb ? ra < rb : a.first < b.first;
  });

  OrderedJson header = OrderedJson::object();
  if (!metadata.empty()) {
    OrderedJson meta = OrderedJson::object();
    for (const auto& [key, value] : metadata) meta[key] = value;
    header[std::string(kMetadataKey)] = std::move(meta);
  }
  uint64_t offset = 0;
  for (const auto& [name, tensor] : ordered) {
    const uint64_t nbytes = tensor.nbytes();
    header[std::string(name)] = {
        {"dtype", format_name(tensor.dtype())},
        {"shape", std::vector<int64_t>(tensor.shape().begin(), tensor.shape().end())},
        {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const OrderedJson::exception& e) {
    throw InvalidArgument(::tenflowers::detail::concat(
        "save_safetensors: a tensor name or metadata string is not valid UTF-8 (", e.what(), ")"));
  }
  text.append((8 - text.size() % 8) % 8, ' ');

  std::vector<std::byte> bytes(8 + text.size() + offset);
  const uint64_t header_size = text.size();
  std::memcpy(bytes.data(), &header_size, 8);
  std::memcpy(bytes.data() + 8, text.data(), text.size());
  std::byte* data = bytes.data() + 8 + text.size();
  for (const auto& [name, tensor] : ordered) {
    if (tensor.nbytes() > 0) std::memcpy(data, tensor.data_ptr(), tensor.nbytes());
    data += tensor.nbytes();
  }
  return bytes;
}

void save_safetensors(const std::filesystem::path& path, const NamedTensors& tensors,
                      const SafetensorsMetadata& metadata) {
  write_file_atomic(path, serialize_safetensors(tensors, metadata));
}

SafetensorsContents load_safetensors(const std::filesystem::path& path) {
  return parse_safetensors(read_file(path), path.string());
}

void load_into(const std::filesystem::path& path, std::span<std::pair<std::string, Tensor>> targets,
               bool strict) {
  load_into(load_safetensors(path), targets, strict, path.string());
}

void load_into(const SafetensorsContents& contents,
               std::span<std::pair<std::string, Tensor>> targets, bool strict,
               const std::string& source_name) {
  std::unordered_map<std::string_view, const Tensor*> in_file;
  for (const auto& [name, tensor] : contents.tensors) in_file.emplace(name, &tensor);

  std::vector<std::string> problems;
  std::set<std::string_view> wanted;
  for (const auto& [name, target] : targets) {
    const auto say = [&](const auto&... parts) {
      problems.push_back(::tenflowers::detail::concat("'", name, "': ", parts...));
    };
    if (!wanted.insert(name).second) {
      say("named by more than one target");
    } else if (!target.defined()) {
      say("the target is undefined");
    } else if (const auto found = in_file.find(name); found == in_file.end()) {
      say("missing from the file");
    } else {
      const Tensor& source = *found->second;
      if (source.shape() != target.shape()) {
        say("shape ", source.shape(), " in the file, target has ", target.shape());
      }
      if (source.dtype() != target.dtype()) {
        say("dtype ", dtype_name(source.dtype()), " in the file, target has ",
            dtype_name(target.dtype()));
      }
      // An empty target has nothing to write (and is_contiguous() can be false for it).
      if (target.numel() > 0 && !target.is_contiguous()) {
        say("the target is not contiguous, so it cannot be written");
      }
    }
  }
  if (strict) {
    for (const auto& [name, tensor] : contents.tensors) {
      if (!wanted.contains(name)) {
        problems.push_back(::tenflowers::detail::concat("'", name, "': in the file but not among ",
                                                        "the targets (unexpected key)"));
      }
    }
  }
  if (!problems.empty()) {
    std::ostringstream message;
    message << "load_into '" << source_name << "': " << problems.size()
            << " problem(s), nothing was loaded:";
    for (const std::string& p : problems) message << "\n  " << p;
    throw InvalidArgument(message.str());
  }
  for (auto& [name, target] : targets) {
    if (target.numel() == 0) continue;
    const Tensor source = in_file.at(name)->to(target.device());
    dispatch_into(TF_OP("copy"), {source}, {}, target);
  }
}

}  // namespace tenflowers::io
