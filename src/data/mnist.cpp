// MNIST-like datasets: four IDX files per dataset, images and labels for train and test.
#include "tenflowers/data/readers.hpp"

namespace tenflowers::data {
namespace {

std::filesystem::path find_file(const std::filesystem::path& dir, const std::string& name) {
  for (const std::string suffix : {".gz", ""}) {
    const std::filesystem::path candidate = dir / (name + suffix);
    if (std::filesystem::exists(candidate)) return candidate;
  }
  throw IoError(tenflowers::detail::concat("load_mnist_like: neither '", (dir / name).string(),
                                           ".gz' nor '", (dir / name).string(), "' exists"));
}

ImageLabelSplit load_split(const std::filesystem::path& dir, const std::string& prefix,
                           const std::string& split, DType label_dtype) {
  const std::filesystem::path images_path = find_file(dir, prefix + split + "-images-idx3-ubyte");
  const std::filesystem::path labels_path = find_file(dir, prefix + split + "-labels-idx1-ubyte");
  ImageLabelSplit out{load_idx(images_path), load_idx(labels_path)};
  TF_CHECK(out.images.dtype() == DType::U8 && out.images.rank() == 3, IoError, "'",
           images_path.string(), "' holds ", dtype_name(out.images.dtype()), out.images.shape(),
           "; expected u8 images [N, rows, cols]");
  TF_CHECK(out.labels.dtype() == DType::U8 && out.labels.rank() == 1, IoError, "'",
           labels_path.string(), "' holds ", dtype_name(out.labels.dtype()), out.labels.shape(),
           "; expected u8 labels [N]");
  TF_CHECK(out.labels.size(0) == out.images.size(0), IoError, "'", labels_path.string(), "' has ",
           out.labels.size(0), " labels but '", images_path.string(), "' has ", out.images.size(0),
           " images");
  if (label_dtype != DType::U8) out.labels = out.labels.cast(label_dtype);
  return out;
}

}  // namespace

MnistLikeData load_mnist_like(const std::filesystem::path& dir, const std::string& prefix,
                              DType label_dtype) {
  TF_CHECK(label_dtype == DType::I64 || label_dtype == DType::U8, InvalidArgument,
           "load_mnist_like: label_dtype must be i64 or u8, got ", dtype_name(label_dtype));
  return {load_split(dir, prefix, "train", label_dtype),
          load_split(dir, prefix, "t10k", label_dtype)};
}

MnistLikeData load_fashion_mnist(const std::filesystem::path& dir, DType label_dtype) {
  return load_mnist_like(dir, "", label_dtype);
}

}  // namespace tenflowers::data
