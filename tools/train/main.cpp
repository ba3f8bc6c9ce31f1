// tenflowers-train: the main job. Trains a model on image-classification data, shows progress,
// evaluates on the test split, saves a checkpoint and can resume from one.
//
// Defaults: the W4 CNN of the design brief on Fashion-MNIST (Debian's dataset-fashion-mnist),
// 5 epochs, batch 128, Adam 1e-3.
#include <tenflowers/tenflowers.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <vector>

namespace tf = tenflowers;
namespace nn = tenflowers::nn;

namespace {

constexpr const char* kUsage = R"(usage: tenflowers-train [options]

Model and training:
  --model cnn|mlp          the W4 CNN (default) or the MLP 784-1024-1024-10 (W3)
  --epochs N               training epochs (default 5)
  --batch-size N           (default 128)
  --lr X                   Adam learning rate (default 0.001)
  --seed N                 weight initialization and shuffling seed (default 1)
  --device D               cpu (default), cuda or cuda:N
  --threads N              kernel threads (default: all cores)
  --workers N              batch-assembling threads (default 0)
  --limit N                train on the first N training samples only
Data (default: Fashion-MNIST from /usr/share/datasets/fashion-mnist):
  --idx-dir DIR            MNIST-like IDX files: DIR/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]
  --csv-train FILE --csv-test FILE
                           CSV files, one sample per row (gzip allowed)
  --label-column NAME|N    the CSV label column (default: the last one)
  --image-shape C,H,W      reshape CSV rows to images (needed for --model cnn)
  --scale X                multiply inputs by X (default 1/255 for IDX, 1 for CSV)
Checkpoints:
  --checkpoint FILE        save weights and optimizer state (safetensors) after every epoch
  --resume FILE            load weights and optimizer state before training
  --help                   this text
)";

struct Args {
  std::string model = "cnn";
  std::string device = "cpu";
  int64_t epochs = 5, batch_size = 128, threads = 0, workers = 0, limit = 0;
  double lr = 1e-3;
  uint64_t seed = 1;
  std::string idx_dir = "/usr/share/datasets/fashion-mnist";
  std::string csv_train, csv_test, label_column, image_shape, checkpoint, resume;
  std::optional<double> scale;
};

[[noreturn]] void usage_error(const std::string& message) {
  std::cerr << "tenflowers-train: " << message << "\n\n" << kUsage;
  std::exit(2);
}

template <class T>
T parse_number(const std::string& flag, const std::string& text) {
  T value{};
  if constexpr (std::is_floating_point_v<T>) {
    char* end = nullptr;
    value = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0') usage_error(flag + " expects a number, got '" + text + "'");
  } else {
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || ptr != text.data() + text.size()) {
      usage_error(flag + " expects an integer, got '" + text + "'");
    }
  }
  return value;
}

Args parse_args(int argc, char** argv) {
  Args a;
  std::map<std::string, std::function<void(const std::string&)>> flags{
      {"--model", [&](auto& v) { a.model = v; }},
      {"--epochs", [&](auto& v) { a.epochs = parse_number<int64_t>("--epochs", v); }},
      {"--batch-size", [&](auto& v) { a.batch_size = parse_number<int64_t>("--batch-size", v); }},
      {"--lr", [&](auto& v) { a.lr = parse_number<double>("--lr", v); }},
      {"--seed", [&](auto& v) { a.seed = parse_number<uint64_t>("--seed", v); }},
      {"--device", [&](auto& v) { a.device = v; }},
      {"--threads", [&](auto& v) { a.threads = parse_number<int64_t>("--threads", v); }},
      {"--workers", [&](auto& v) { a.workers = parse_number<int64_t>("--workers", v); }},
      {"--limit", [&](auto& v) { a.limit = parse_number<int64_t>("--limit", v); }},
      {"--idx-dir", [&](auto& v) { a.idx_dir = v; }},
      {"--csv-train", [&](auto& v) { a.csv_train = v; }},
      {"--csv-test", [&](auto& v) { a.csv_test = v; }},
      {"--label-column", [&](auto& v) { a.label_column = v; }},
      {"--image-shape", [&](auto& v) { a.image_shape = v; }},
      {"--scale", [&](auto& v) { a.scale = parse_number<double>("--scale", v); }},
      {"--checkpoint", [&](auto& v) { a.checkpoint = v; }},
      {"--resume", [&](auto& v) { a.resume = v; }},
  };
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::cout << kUsage;
      std::exit(0);
    }
    auto it = flags.find(flag);
    if (it == flags.end()) usage_error("unknown option '" + flag + "'");
    if (i + 1 >= argc) usage_error(flag + " needs a value");
    it->second(argv[++i]);
  }
  if (a.model != "cnn" && a.model != "mlp") usage_error("--model must be cnn or mlp");
  if (a.epochs < 0 || a.batch_size < 1 || a.threads < 0 || a.workers < 0 || a.limit < 0) {
    usage_error("--epochs, --limit, --threads and --workers must be >= 0, --batch-size >= 1");
  }
  if (!(a.lr > 0)) usage_error("--lr must be positive");
  if (a.csv_train.empty() != a.csv_test.empty()) {
    usage_error("--csv-train and --csv-test go together");
  }
  return a;
}

struct Split {
  tf::Tensor x, y;
};

std::vector<int64_t> parse_shape(const std::string& text) {
  std::vector<int64_t> shape;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    shape.push_back(parse_number<int64_t>("--image-shape", text.substr(start, comma - start)));
    start = comma + 1;
  }
  return shape;
}

// Inputs as f32 scaled, shaped [N, 1, 28, 28]-like images for the CNN or [N, features] rows for
// the MLP; labels as i64.
Split prepare(const tf::Tensor& raw, const tf::Tensor& labels, const Args& args, double scale) {
  const int64_t n = raw.size(0);
  // One pass from the stored values (u8 * f32 computes in f32): no f32 copy of the raw data
  // beside the scaled one, which would double the peak memory of loading.
  const bool reads_as_f32 = tf::is_integral(raw.dtype()) || raw.dtype() == tf::DType::F32;
  tf::Tensor x =
      (reads_as_f32 ? raw : raw.cast(tf::DType::F32)) * tf::Tensor::scalar(scale, tf::DType::F32);
  std::vector<int64_t> shape{n};
  if (!args.image_shape.empty()) {
    for (int64_t e : parse_shape(args.image_shape)) shape.push_back(e);
  } else if (raw.rank() == 3) {
    shape.insert(shape.end(), {1, raw.size(1), raw.size(2)});
  } else {
    shape.push_back(raw.numel() / std::max<int64_t>(n, 1));
  }
  if (args.model == "mlp") shape = {n, x.numel() / std::max<int64_t>(n, 1)};
  if (args.model == "cnn" && shape.size() != 4) {
    usage_error("the CNN needs images; give --image-shape C,H,W for CSV data");
  }
  return {x.reshape(tf::Dims(shape)).contiguous(), labels.cast(tf::DType::I64)};
}

std::pair<Split, Split> load_data(const Args& args) {
  if (!args.csv_train.empty()) {
    tf::data::CsvOptions options;
    if (!args.label_column.empty()) {
      const bool numeric = args.label_column.find_first_not_of("0123456789") == std::string::npos;
      if (numeric) {
        options.label_column = parse_number<int64_t>("--label-column", args.label_column);
      } else {
        options.label_column = args.label_column;
      }
    } else {
      options.label_column = int64_t{-1};
    }
    const tf::data::CsvData train = tf::data::load_csv(args.csv_train, options);
    const tf::data::CsvData test = tf::data::load_csv(args.csv_test, options);
    const double scale = args.scale.value_or(1.0);
    return {prepare(train.features, train.labels, args, scale),
            prepare(test.features, test.labels, args, scale)};
  }
  const tf::data::MnistLikeData d = tf::data::load_mnist_like(args.idx_dir);
  const double scale = args.scale.value_or(1.0 / 255.0);
  return {prepare(d.train.images, d.train.labels, args, scale),
          prepare(d.test.images, d.test.labels, args, scale)};
}

std::shared_ptr<nn::Sequential> make_model(const Args& args, int64_t classes) {
  return args.model == "mlp" ? nn::models::mlp({1024, 1024}, classes)
                             : nn::models::small_cnn(classes);
}

// Times each epoch's training batches alone (the test-set evaluation that follows each epoch is
// left out), so the figure compares with a peer's training-only epoch.
class TrainingTimer : public nn::Callback {
 public:
  void on_train_begin(nn::Model&, int64_t, std::optional<int64_t> steps) override {
    steps_ = steps.value_or(0);
  }
  void on_epoch_begin(nn::Model&, int64_t) override { start_ = Clock::now(); }
  void on_batch_end(nn::Model&, int64_t batch, const nn::Logs&) override {
    if (batch + 1 == steps_) {
      seconds_.push_back(std::chrono::duration<double>(Clock::now() - start_).count());
    }
  }
  // The median over the epochs, or 0 before any.
  double median_seconds() const {
    if (seconds_.empty()) return 0.0;
    std::vector<double> sorted = seconds_;
    std::sort(sorted.begin(), sorted.end());
    const size_t mid = sorted.size() / 2;
    return sorted.size() % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  }

 private:
  using Clock = std::chrono::steady_clock;
  int64_t steps_ = 0;
  Clock::time_point start_;
  std::vector<double> seconds_;
};

int run(const Args& args) {
  if (args.threads > 0) tf::set_num_threads(static_cast<int>(args.threads));
  tf::manual_seed(args.seed);
  auto [train, test] = load_data(args);
  if (args.limit > 0 && args.limit < train.x.size(0)) {
    train = {train.x.narrow(0, 0, args.limit), train.y.narrow(0, 0, args.limit)};
  }
  const int64_t classes =
      std::max(tf::max(train.y).item<int64_t>(), tf::max(test.y).item<int64_t>()) + 1;
  const tf::Dims sample_shape(
      std::vector<int64_t>(train.x.shape().begin() + 1, train.x.shape().end()));
  std::cout << "data: " << train.x.size(0) << " training and " << test.x.size(0)
            << " test samples of shape " << sample_shape << ", " << classes << " classes\n";

  auto model = make_model(args, classes);
  model->to(tf::Device::parse(args.device));
  model->compile(std::make_shared<nn::Adam>(nn::AdamOptions{.learning_rate = args.lr}),
                 std::make_shared<nn::losses::SparseCategoricalCrossentropy>(true),
                 {std::make_shared<nn::metrics::SparseCategoricalAccuracy>()});
  model->build_for({sample_shape});
  std::cout << model->summary();
  if (!args.resume.empty()) {
    model->load_weights(args.resume);
    std::printf("resumed from %s (optimizer step %lld)\n", args.resume.c_str(),
                static_cast<long long>(model->optimizer().iterations()));
  }

  nn::FitOptions fit;
  fit.epochs = args.epochs;
  fit.batch_size = args.batch_size;
  fit.seed = args.seed;
  fit.num_workers = args.workers;
  fit.validation_x = {test.x};
  fit.validation_y = {test.y};
  if (!args.checkpoint.empty()) {
    fit.callbacks.push_back(std::make_shared<nn::ModelCheckpoint>(
        args.checkpoint, nn::ModelCheckpointOptions{.save_best_only = false}));
  }
  auto timer = std::make_shared<TrainingTimer>();
  fit.callbacks.push_back(timer);
  const auto start = std::chrono::steady_clock::now();
  model->fit(train.x, train.y, fit);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  const nn::Logs result = model->evaluate(test.x, test.y, 1000);
  std::printf("test: %s\n", result.str().c_str());
  std::printf(
      "training took %.1f s (%.1f s per epoch; median %.2f s per epoch without the "
      "evaluations)\n",
      seconds, args.epochs > 0 ? seconds / static_cast<double>(args.epochs) : 0.0,
      timer->median_seconds());
  if (!args.checkpoint.empty()) std::printf("checkpoint: %s\n", args.checkpoint.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse_args(argc, argv);
  try {
    return run(args);
  } catch (const std::exception& e) {
    std::cerr << "tenflowers-train: " << e.what() << '\n';
    return 1;
  }
}
