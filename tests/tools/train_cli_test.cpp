// tenflowers-train end to end: the MLP on a Fashion-MNIST subset with a checkpoint and a resume,
// the user's own CSV data, and bad input that must end in a message and exit status, never a
// crash.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

#include "tenflowers/tenflowers.hpp"
#include "tests/support/scratch_dir.hpp"

namespace tenflowers::testing {
namespace {

struct Outcome {
  int exit_status = -1;  // -1: killed by a signal
  std::string output;    // stdout and stderr together
};

Outcome train(const std::string& arguments) {
  const std::string command = std::string(TF_TRAIN_BINARY) + " --threads 1 " + arguments + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("popen failed for " + command);
  Outcome outcome;
  char buffer[4096];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) outcome.output.append(buffer, n);
  const int status = ::pclose(pipe);
  if (WIFEXITED(status)) outcome.exit_status = WEXITSTATUS(status);
  return outcome;
}

// The accuracy on the "test:" line of a finished run.
double test_accuracy(const std::string& output) {
  std::smatch m;
  const std::regex line(R"(test: loss: [0-9.]+ - sparse_categorical_accuracy: ([0-9.]+))");
  if (!std::regex_search(output, m, line)) return -1;
  return std::stod(m[1]);
}

void write_csv(const std::filesystem::path& path, const data::Classification& set) {
  std::ofstream out(path);
  const int64_t features = set.features.size(1);
  for (int64_t j = 0; j < features; ++j) out << "x" << j << ",";
  out << "label\n";
  const Tensor x = set.features.contiguous();
  const Tensor y = set.labels.contiguous();
  for (int64_t i = 0; i < x.size(0); ++i) {
    for (int64_t j = 0; j < features; ++j) out << x.data<float>()[i * features + j] << ",";
    out << y.data<int64_t>()[i] << "\n";
  }
}

TEST(TrainCli, TrainsTheMlpOnFashionMnistSavesAndResumes) {
  if (!std::filesystem::exists("/usr/share/datasets/fashion-mnist")) {
    GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  }
  const ScratchDir dir;
  const std::string checkpoint = (dir / "mlp.safetensors").string();
  const Outcome first = train("--model mlp --epochs 1 --limit 3000 --checkpoint " + checkpoint);
  ASSERT_EQ(first.exit_status, 0) << first.output;
  // Ten classes: chance is 0.1; one epoch on 3000 samples gives ~0.75.
  EXPECT_GT(test_accuracy(first.output), 0.65) << first.output;
  ASSERT_TRUE(std::filesystem::exists(checkpoint));

  const Outcome resumed = train("--model mlp --epochs 1 --limit 3000 --resume " + checkpoint +
                                " --checkpoint " + (dir / "mlp2.safetensors").string());
  ASSERT_EQ(resumed.exit_status, 0) << resumed.output;
  // 3000 samples in batches of 128 are 24 steps per epoch.
  EXPECT_NE(resumed.output.find("optimizer step 24"), std::string::npos) << resumed.output;
  EXPECT_GE(test_accuracy(resumed.output), test_accuracy(first.output) - 0.02) << resumed.output;

  // A checkpoint of another model is refused with the mismatching names.
  const Outcome wrong_model = train("--model cnn --epochs 0 --limit 128 --resume " + checkpoint);
  EXPECT_EQ(wrong_model.exit_status, 1) << wrong_model.output;
  EXPECT_NE(wrong_model.output.find("kernel"), std::string::npos) << wrong_model.output;
}

TEST(TrainCli, TrainsOnTheUsersCsvData) {
  const ScratchDir dir;
  const data::Classification blobs = data::make_blobs(900, 5, 3, 41);
  write_csv(dir / "train.csv", {blobs.features.narrow(0, 0, 600), blobs.labels.narrow(0, 0, 600)});
  write_csv(dir / "test.csv",
            {blobs.features.narrow(0, 600, 300), blobs.labels.narrow(0, 600, 300)});
  const Outcome run = train("--model mlp --epochs 3 --batch-size 32 --lr 0.003 --csv-train " +
                            (dir / "train.csv").string() + " --csv-test " +
                            (dir / "test.csv").string() + " --label-column label");
  ASSERT_EQ(run.exit_status, 0) << run.output;
  EXPECT_NE(run.output.find("600 training and 300 test samples of shape [5], 3 classes"),
            std::string::npos)
      << run.output;
  // Three blobs of unit spread with centers drawn from [-10, 10]^5 are learnt almost fully.
  EXPECT_GT(test_accuracy(run.output), 0.9) << run.output;
}

TEST(TrainCli, BadInputEndsWithAMessageNotACrash) {
  const ScratchDir dir;
  struct Case {
    std::string arguments;
    int exit_status;
    std::string message;
  };
  std::ofstream(dir / "ragged.csv") << "a,b,label\n1,2,0\n3,1\n";
  std::ofstream(dir / "junk.safetensors") << "not a checkpoint";
  const std::string ragged = (dir / "ragged.csv").string();
  const Case cases[] = {
      {"--model rnn", 2, "--model must be cnn or mlp"},
      {"--epochs x", 2, "--epochs expects an integer"},
      {"--batch-size 0", 2, "--batch-size >= 1"},
      {"--bogus 1", 2, "unknown option '--bogus'"},
      {"--csv-train " + ragged, 2, "go together"},
      {"--idx-dir " + (dir / "missing").string(), 1, "missing"},
      {"--model mlp --csv-train " + ragged + " --csv-test " + ragged, 1, "ragged.csv"},
      {"--model mlp --epochs 0 --limit 128 --resume " + (dir / "junk.safetensors").string(), 1,
       "junk.safetensors"},
  };
  for (const Case& c : cases) {
    const Outcome run = train(c.arguments);
    EXPECT_EQ(run.exit_status, c.exit_status) << c.arguments << "\n" << run.output;
    EXPECT_NE(run.output.find(c.message), std::string::npos) << c.arguments << "\n" << run.output;
  }
}

}  // namespace
}  // namespace tenflowers::testing
