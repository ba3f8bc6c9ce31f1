// Models: training on real data, the functional graph, custom loops, callbacks, checkpoints.
#include "tenflowers/nn/model.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tenflowers/autograd/gradient_tape.hpp"
#include "tenflowers/core/ops.hpp"
#include "tenflowers/data/readers.hpp"
#include "tenflowers/data/synthetic.hpp"
#include "tenflowers/nn/functional.hpp"
#include "tenflowers/nn/layers/conv.hpp"
#include "tenflowers/nn/layers/core.hpp"
#include "tenflowers/nn/optimizers.hpp"
#include "tests/support/reference.hpp"
#include "tests/support/scratch_dir.hpp"

namespace tenflowers::testing {
namespace {

using std::make_shared;

std::shared_ptr<nn::Sequential> small_mlp(int64_t classes) {
  return make_shared<nn::Sequential>(
      std::vector<nn::LayerPtr>{make_shared<nn::Dense>(32, nn::DenseOptions{.activation = "relu"}),
                                make_shared<nn::Dense>(classes)});
}

// Two small MLPs built for `features` inputs, the second a copy of the first's weights.
std::pair<std::shared_ptr<nn::Sequential>, std::shared_ptr<nn::Sequential>> twin_mlps(
    int64_t classes, int64_t features) {
  auto a = small_mlp(classes);
  auto b = small_mlp(classes);
  a->build_for({Dims{features}});
  b->build_for({Dims{features}});
  for (size_t i = 0; i < a->variables().size(); ++i) {
    Variable v = b->variables()[i];
    v.assign(a->variables()[i].handle());
  }
  return {a, b};
}

void compile_for_classes(nn::Model& model, double lr = 1e-2) {
  model.compile(make_shared<nn::Adam>(nn::AdamOptions{.learning_rate = lr}),
                make_shared<nn::losses::SparseCategoricalCrossentropy>(true),
                {make_shared<nn::metrics::SparseCategoricalAccuracy>()});
}

TEST(Training, LossFallsAndAccuracyRisesOnFashionMnist) {
  const std::filesystem::path dir = "/usr/share/datasets/fashion-mnist";
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  manual_seed(3);
  const data::MnistLikeData d = data::load_fashion_mnist(dir);
  const Tensor x =
      (d.train.images.narrow(0, 0, 3000).cast(DType::F32) * (1.0 / 255)).reshape({3000, 784});
  const Tensor y = d.train.labels.narrow(0, 0, 3000);
  const Tensor tx =
      (d.test.images.narrow(0, 0, 1000).cast(DType::F32) * (1.0 / 255)).reshape({1000, 784});
  const Tensor ty = d.test.labels.narrow(0, 0, 1000);
  auto model = small_mlp(10);
  compile_for_classes(*model, 3e-3);
  const nn::Logs before = model->evaluate(tx, ty, 250);
  const nn::History history = model->fit(x, y, {.epochs = 3, .batch_size = 64, .verbose = 0});
  const nn::Logs after = model->evaluate(tx, ty, 250);
  const auto& loss = history["loss"];
  ASSERT_EQ(loss.size(), 3u);
  EXPECT_LT(loss[2], loss[0]);
  EXPECT_LT(after.at("loss"), 0.6 * before.at("loss"));
  // Ten classes: chance is 0.1; a 784-32-10 MLP on 3000 samples reaches ~0.8.
  EXPECT_GT(after.at("sparse_categorical_accuracy"), 0.7);
}

TEST(Training, CustomLoopWithATapeMatchesTrainStep) {
  manual_seed(5);
  const data::Classification blobs = data::make_blobs(64, 4, 3, 9);
  auto [a, b] = twin_mlps(3, 4);
  compile_for_classes(*a);
  a->train_step({blobs.features}, {blobs.labels});

  nn::Adam opt({.learning_rate = 1e-2});
  nn::losses::SparseCategoricalCrossentropy loss_fn(true);
  b->set_training(true);
  GradientTape tape;
  const Tensor loss = loss_fn(blobs.labels, (*b)(blobs.features));
  const auto vars = b->trainable_variables();
  opt.apply_gradients(tape.gradient(loss, vars), vars);
  for (size_t i = 0; i < vars.size(); ++i) {
    EXPECT_TRUE(allclose(a->trainable_variables()[i].handle(), vars[i].handle(), 0, 0))
        << "variable " << vars[i].name();
  }
}

TEST(Training, FitOverADatasetTakesTheSameStepsAsFitOverTensors) {
  manual_seed(7);
  const data::Classification blobs = data::make_blobs(80, 4, 3, 11);
  auto [a, b] = twin_mlps(3, 4);
  compile_for_classes(*a);
  compile_for_classes(*b);
  const nn::History from_tensors =
      a->fit(blobs.features, blobs.labels,
             {.epochs = 2, .batch_size = 16, .shuffle = false, .verbose = 0});
  const data::Dataset batches =
      data::Dataset::from_tensors({blobs.features, blobs.labels}).batch(16);
  const nn::History from_dataset = b->fit(batches, {.epochs = 2, .verbose = 0});
  EXPECT_EQ(from_tensors["loss"], from_dataset["loss"]);
  for (size_t i = 0; i < a->variables().size(); ++i) {
    EXPECT_TRUE(allclose(a->variables()[i].handle(), b->variables()[i].handle(), 0, 0));
  }
  const nn::Logs direct = a->evaluate(blobs.features, blobs.labels, 16);
  const nn::Logs over_dataset = b->evaluate(batches);
  EXPECT_DOUBLE_EQ(direct.at("loss"), over_dataset.at("loss"));
}

TEST(Functional, TwoInputsAndTwoOutputsRunTheRecordedGraph) {
  manual_seed(7);
  auto shared = make_shared<nn::Dense>(5, nn::DenseOptions{.activation = "tanh"});
  auto head_a = make_shared<nn::Dense>(2);
  auto head_b = make_shared<nn::Dense>(1);
  const nn::SymbolicTensor in1 = nn::Input({3}), in2 = nn::Input({3});
  const nn::SymbolicTensor h1 = nn::apply(shared, in1), h2 = nn::apply(shared, in2);
  const nn::SymbolicTensor out_a = nn::apply(head_a, h1), out_b = nn::apply(head_b, h2);
  nn::FunctionalModel model({in1, in2}, {out_a, out_b});
  Rng rng = Rng::for_test();
  const Tensor x1 = random_tensor(rng, {4, 3}, DType::F32),
               x2 = random_tensor(rng, {4, 3}, DType::F32);
  const std::vector<Tensor> out = model.call_outputs({x1, x2});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(allclose(out[0], (*head_a)((*shared)(x1)), 0, 0));
  EXPECT_TRUE(allclose(out[1], (*head_b)((*shared)(x2)), 0, 0));
  EXPECT_EQ(model.trainable_variables().size(), 6u);  // the shared layer counts once

  model.compile(
      make_shared<nn::SGD>(nn::SGDOptions{.learning_rate = 0.1}),
      std::vector<std::shared_ptr<nn::Loss>>{make_shared<nn::losses::MeanSquaredError>(),
                                             make_shared<nn::losses::MeanSquaredError>()});
  const Tensor ya = random_tensor(rng, {4, 2}, DType::F32),
               yb = random_tensor(rng, {4, 1}, DType::F32);
  const double before = model.evaluate({x1, x2}, {ya, yb}).at("loss");
  model.fit({x1, x2}, {ya, yb}, {.epochs = 20, .batch_size = 4, .verbose = 0});
  EXPECT_LT(model.evaluate({x1, x2}, {ya, yb}).at("loss"), before);
  EXPECT_THROW(model.call_outputs({x1}), InvalidArgument);
  EXPECT_THROW(model.call_outputs({x1, zeros({4, 5})}), ShapeError);
}

TEST(Checkpoints, ResumingGivesTheSameStepsAsTrainingOnAndMismatchesAreListed) {
  manual_seed(11);
  const data::Classification blobs = data::make_blobs(96, 4, 3, 13);
  const ScratchDir dir;
  auto model = small_mlp(3);
  compile_for_classes(*model);
  model->fit(blobs.features, blobs.labels,
             {.epochs = 2, .batch_size = 32, .shuffle = false, .verbose = 0});
  model->save_weights(dir / "ckpt.safetensors");

  auto resumed = small_mlp(3);  // a fresh instance: other variable names, same paths
  compile_for_classes(*resumed);
  resumed->build_for({Dims{4}});
  resumed->load_weights(dir / "ckpt.safetensors");
  EXPECT_EQ(resumed->optimizer().iterations(), model->optimizer().iterations());
  model->fit(blobs.features, blobs.labels,
             {.epochs = 1, .batch_size = 32, .shuffle = false, .verbose = 0});
  resumed->fit(blobs.features, blobs.labels,
               {.epochs = 1, .batch_size = 32, .shuffle = false, .verbose = 0});
  for (size_t i = 0; i < model->variables().size(); ++i) {
    EXPECT_TRUE(allclose(model->variables()[i].handle(), resumed->variables()[i].handle(), 0, 0));
  }

  auto other = make_shared<nn::Sequential>(
      std::vector<nn::LayerPtr>{make_shared<nn::Dense>(16), make_shared<nn::Dense>(3)});
  other->build_for({Dims{4}});
  try {
    other->load_weights(dir / "ckpt.safetensors");
    ADD_FAILURE() << "a checkpoint of another architecture loaded";
  } catch (const InvalidArgument& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("0/kernel"), std::string::npos) << what;
    EXPECT_NE(what.find("1/kernel"), std::string::npos) << what;
  }
  // A truncated file is an IoError, never a crash, and leaves the weights as they were.
  const auto bytes = std::filesystem::file_size(dir / "ckpt.safetensors");
  std::filesystem::resize_file(dir / "ckpt.safetensors", bytes / 2);
  const Tensor before = resumed->variables()[0].handle().copy();
  EXPECT_THROW(resumed->load_weights(dir / "ckpt.safetensors"), IoError);
  EXPECT_TRUE(allclose(resumed->variables()[0].handle(), before, 0, 0));
}

TEST(Callbacks, EarlyStoppingCsvLoggerCheckpointsAndSchedulerDoTheirJobs) {
  manual_seed(17);
  const data::Classification blobs = data::make_blobs(64, 4, 3, 19);
  const ScratchDir dir;
  auto model = small_mlp(3);
  compile_for_classes(*model);
  // A zero learning rate: the validation loss never improves after the first epoch.
  auto scheduler = make_shared<nn::LearningRateScheduler>([](int64_t, double) { return 0.0; });
  auto stop = make_shared<nn::EarlyStopping>(nn::EarlyStoppingOptions{.patience = 2});
  auto csv = make_shared<nn::CSVLogger>(dir / "log.csv");
  auto ckpt = make_shared<nn::ModelCheckpoint>((dir / "w{epoch}.safetensors").string());
  const nn::History h = model->fit(blobs.features, blobs.labels,
                                   {.epochs = 10,
                                    .batch_size = 16,
                                    .validation_x = {blobs.features},
                                    .validation_y = {blobs.labels},
                                    .callbacks = {scheduler, stop, csv, ckpt},
                                    .verbose = 0});
  EXPECT_EQ(h["loss"].size(), 4u);  // epoch 1 sets the best, 2-4 do not improve: stop after 4
  EXPECT_EQ(stop->stopped_epoch(), std::optional<int64_t>(3));
  EXPECT_EQ(h["learning_rate"][0], 0.0);
  for (int e = 1; e <= 4; ++e) {
    EXPECT_TRUE(std::filesystem::exists(dir / ("w" + std::to_string(e) + ".safetensors")));
  }
  std::ifstream log(dir / "log.csv");
  std::string header, line;
  std::getline(log, header);
  EXPECT_EQ(header.rfind("epoch,loss,sparse_categorical_accuracy", 0), 0u) << header;
  int rows = 0;
  while (std::getline(log, line)) ++rows;
  EXPECT_EQ(rows, 4);
}

TEST(Callbacks, ReduceLROnPlateauLowersTheRateWhenTheFigureStopsImproving) {
  manual_seed(19);
  const data::Classification blobs = data::make_blobs(64, 4, 3, 23);
  auto model = small_mlp(3);
  compile_for_classes(*model);
  // Under mode Max a falling loss never improves after the first epoch, so with patience 1
  // every later epoch halves the rate.
  auto plateau = make_shared<nn::ReduceLROnPlateauCallback>(
      "loss", nn::ReduceLROnPlateauOptions{
                  .mode = nn::ReduceLROnPlateauOptions::Mode::Max, .factor = 0.5, .patience = 1});
  const nn::History h =
      model->fit(blobs.features, blobs.labels,
                 {.epochs = 3, .batch_size = 16, .callbacks = {plateau}, .verbose = 0});
  const auto& loss = h["loss"];
  ASSERT_LT(loss[1], loss[0]);
  ASSERT_LT(loss[2], loss[1]);
  EXPECT_EQ(h["learning_rate"], (std::vector<double>{1e-2, 0.5e-2, 0.25e-2}));

  auto unknown = make_shared<nn::ReduceLROnPlateauCallback>("val_nothing");
  EXPECT_THROW(model->fit(blobs.features, blobs.labels,
                          {.epochs = 1, .batch_size = 16, .callbacks = {unknown}, .verbose = 0}),
               InvalidArgument);
}

TEST(Callbacks, ProgressBarDrawsOnATerminalAndWritesLinesOtherwise) {
  manual_seed(23);
  const data::Classification blobs = data::make_blobs(64, 4, 3, 29);
  for (bool terminal : {true, false}) {
    auto model = small_mlp(3);
    compile_for_classes(*model);
    std::ostringstream out;
    model->fit(blobs.features, blobs.labels,
               {.epochs = 2,
                .batch_size = 16,
                .callbacks = {make_shared<nn::ProgressBar>(out, terminal)},
                .verbose = 0});
    const std::string text = out.str();
    EXPECT_NE(text.find("Epoch 2/2"), std::string::npos) << text;
    EXPECT_NE(text.find("4/4"), std::string::npos) << text;
    EXPECT_NE(text.find("loss: "), std::string::npos) << text;
    EXPECT_EQ(text.find('\r') != std::string::npos, terminal) << text;
  }
}

TEST(Model, PredictMatchesADirectCallAndMisuseIsReported) {
  manual_seed(31);
  auto model = small_mlp(3);
  Rng rng = Rng::for_test();
  const Tensor x = random_tensor(rng, {10, 4}, DType::F32);
  EXPECT_TRUE(allclose(model->predict(x, 3), (*model)(x), 1e-6, 1e-6));
  EXPECT_THROW(model->fit(x, zeros({10}, DType::I64), {.verbose = 0}), InvalidArgument);
  compile_for_classes(*model);
  EXPECT_THROW(model->fit(x, zeros({9}, DType::I64), {.verbose = 0}), ShapeError);
  EXPECT_THROW(model->fit(x, zeros({10}, DType::I64), {.batch_size = 0, .verbose = 0}),
               InvalidArgument);
  EXPECT_THROW(nn::Sequential().predict(x), InvalidArgument);
}

}  // namespace
}  // namespace tenflowers::testing
