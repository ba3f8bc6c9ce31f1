// Registry, dispatch hooks, memory pool, devices, dtypes and errors.
#include <gtest/gtest.h>

#include <thread>

#include <tenflowers/tenflowers.hpp>

namespace tf = tenflowers;
using tf::DType;
using tf::Tensor;

TEST(DTypes, PromotionFollowsNumPyWithoutI16) {
  EXPECT_EQ(tf::promote_types(DType::I32, DType::F32), DType::F32);
  EXPECT_EQ(tf::promote_types(DType::U8, DType::I8), DType::I32);
  EXPECT_EQ(tf::promote_types(DType::F16, DType::BF16), DType::F32);
  EXPECT_EQ(tf::promote_types(DType::Bool, DType::U8), DType::U8);
  EXPECT_EQ(tf::promote_types(DType::I64, DType::F16), DType::F16);
  EXPECT_EQ(tf::promote_types(DType::F32, DType::F64), DType::F64);
  EXPECT_EQ(tf::dtype_from_name("bf16"), DType::BF16);
  EXPECT_THROW(tf::dtype_from_name("f128"), tf::InvalidArgument);
}

TEST(Dims, BroadcastAndStrides) {
  EXPECT_EQ(tf::broadcast_shapes({3, 1, 4}, {5, 4}), tf::Dims({3, 5, 4}));
  EXPECT_THROW(tf::broadcast_shapes({3, 2}, {4}), tf::ShapeError);
  EXPECT_EQ(tf::contiguous_strides({2, 3, 4}), tf::Dims({12, 4, 1}));
  tf::Dims big{1, 2, 3, 4, 5, 6, 7, 8};  // beyond the inline capacity
  big.push_back(9);
  EXPECT_EQ(big.numel(), 362880);
  tf::Dims moved = std::move(big);
  EXPECT_EQ(moved.size(), 9u);
}

TEST(Devices, ParseAndValidate) {
  EXPECT_EQ(tf::Device::parse("cuda:3"), tf::Device::cuda(3));
  EXPECT_EQ(tf::Device::parse("cpu"), tf::Device::cpu());
  EXPECT_THROW(tf::Device::parse("tpu"), tf::InvalidArgument);
  EXPECT_THROW(tf::backend_for(tf::Device{tf::DeviceType::CPU, 1}), tf::DeviceError);
  if (!tf::has_backend(tf::DeviceType::CUDA)) {
    Tensor a = Tensor::from_vec({1.f}, {1});
    EXPECT_THROW(a.to(tf::Device::cuda(0)), tf::DeviceError);
    EXPECT_THROW(tf::set_default_device(tf::Device::cuda(0)), tf::DeviceError);
  }
}

TEST(Registry, LookupAndCapabilities) {
  EXPECT_THROW(tf::registry().get("no_such_op"), tf::InvalidArgument);
  EXPECT_THROW(tf::registry().def("copy"), tf::InvalidArgument);
  EXPECT_TRUE(tf::registry().supports("cast", tf::DeviceType::CPU, DType::BF16));
  EXPECT_TRUE(tf::registry().supports("permute", tf::DeviceType::CPU, DType::F32));
  EXPECT_FALSE(tf::registry().supports("no_such_op", tf::DeviceType::CPU, DType::F32));
}

TEST(Dispatch, WrongArityIsATypedErrorNamingTheOp) {
  const tf::OpDef& cast = tf::registry().get("cast");
  Tensor a = Tensor::from_vec({1.f, 2.f}, {2});
  try {
    tf::dispatch(cast, std::vector<Tensor>{a, a}, tf::Attrs{{"dtype", DType::F64}});
    FAIL();
  } catch (const tf::InvalidArgument& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("op 'cast'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("f32[2]"), std::string::npos) << msg;
  }
  EXPECT_THROW(tf::dispatch(cast, std::vector<Tensor>{Tensor()}, {}), tf::InvalidArgument);
  EXPECT_THROW(tf::dispatch(cast, std::vector<Tensor>{a}, {}), tf::InvalidArgument);  // no dtype
}

namespace {
struct Recorder : tf::DispatchHook {
  std::vector<std::string> ops;
  std::function<void()> on_call;
  void on_op(const tf::OpDef& op, std::span<const Tensor>, const tf::Attrs&,
             std::span<const Tensor> outputs) override {
    ops.push_back(op.name);
    EXPECT_FALSE(outputs.empty());
    if (on_call) on_call();
  }
};
}  // namespace

TEST(Dispatch, HooksSeeCallsOnTheirThreadOnly) {
  Recorder recorder;
  Tensor a = Tensor::from_vec({1.f, 2.f, 3.f, 4.f}, {2, 2});
  {
    tf::ScopedHook scope(&recorder);
    a.transpose().contiguous();
    std::thread other([&] { a.transpose(); });
    other.join();
    {
      tf::HooksPaused paused;
      a.cast(DType::F64);
    }
  }
  a.transpose();
  EXPECT_EQ(recorder.ops, (std::vector<std::string>{"permute", "copy"}));
}

TEST(Dispatch, OpsCalledByAHookAreSeenOnlyByOuterHooks) {
  Recorder outer, inner;
  Tensor a = Tensor::from_vec({1.f, 2.f}, {2});
  inner.on_call = [&] {
    if (inner.ops.size() == 1) a.cast(DType::F64);  // work done by the inner hook
  };
  tf::ScopedHook outer_scope(&outer);
  tf::ScopedHook inner_scope(&inner);
  a.copy();
  EXPECT_EQ(inner.ops, (std::vector<std::string>{"copy"}));
  EXPECT_EQ(outer.ops, (std::vector<std::string>{"copy", "cast"}));
}

TEST(Dispatch, GlobalHooksSeeEveryThread) {
  Recorder recorder;
  tf::add_global_hook(&recorder);
  Tensor a = Tensor::from_vec({1.f, 2.f}, {2});
  std::thread other([&] { a.copy(); });
  other.join();
  tf::remove_global_hook(&recorder);
  a.copy();
  EXPECT_EQ(recorder.ops, (std::vector<std::string>{"copy"}));
}

TEST(Memory, PoolReusesBlocksAndReportsStatistics) {
  tf::release_cached_memory();
  tf::reset_peak_memory();
  const tf::MemoryStats before = tf::memory_stats();
  {
    Tensor a = Tensor::empty({1024, 256}, DType::F32);  // 1 MiB
    const tf::MemoryStats during = tf::memory_stats();
    EXPECT_GE(during.in_use_bytes, before.in_use_bytes + (1u << 20));
    EXPECT_GE(during.peak_in_use_bytes, during.in_use_bytes);
  }
  const tf::MemoryStats after_free = tf::memory_stats();
  EXPECT_EQ(after_free.in_use_bytes, before.in_use_bytes);
  EXPECT_GE(after_free.cached_bytes, 1u << 20);
  {
    Tensor b = Tensor::empty({256, 1024}, DType::F32);  // same size: served from the cache
    EXPECT_EQ(tf::memory_stats().cache_hits, after_free.cache_hits + 1);
  }
  tf::release_cached_memory();
  EXPECT_EQ(tf::memory_stats().cached_bytes, 0u);
}

// Host buffers of at most Storage::kInlineBytes live inside their Storage and bypass the pool;
// one byte more goes to the pool. Both kinds hold their data and keep it apart.
TEST(Memory, TinyHostBuffersLiveInsideTheirStorage) {
  constexpr int64_t kInlineFloats = tf::Storage::kInlineBytes / sizeof(float);
  tf::reset_peak_memory();
  const tf::MemoryStats before = tf::memory_stats();
  Tensor inline_a = tf::full({kInlineFloats}, 1.5, DType::F32);
  Tensor inline_b = tf::full({kInlineFloats}, -2.0, DType::F32);
  const tf::MemoryStats with_inline = tf::memory_stats();
  EXPECT_EQ(with_inline.allocations, before.allocations);
  EXPECT_EQ(with_inline.in_use_bytes, before.in_use_bytes);
  const auto storage_of = [](const Tensor& t) {
    return reinterpret_cast<uintptr_t>(t.storage().get());
  };
  const auto data_of = [](const Tensor& t) { return reinterpret_cast<uintptr_t>(t.data_ptr()); };
  EXPECT_GE(data_of(inline_a), storage_of(inline_a));
  EXPECT_LT(data_of(inline_a), storage_of(inline_a) + sizeof(tf::Storage));
  EXPECT_EQ(data_of(inline_a) % 16, 0u);

  constexpr auto kPooledBytes = static_cast<int64_t>(tf::Storage::kInlineBytes) + 1;
  Tensor pooled = tf::full({kPooledBytes}, 3.0, DType::U8);
  const tf::MemoryStats with_pooled = tf::memory_stats();
  EXPECT_EQ(with_pooled.allocations, before.allocations + 1);
  EXPECT_GT(with_pooled.in_use_bytes, before.in_use_bytes);
  const uintptr_t pooled_data = data_of(pooled);
  EXPECT_TRUE(pooled_data < storage_of(pooled) ||
              pooled_data >= storage_of(pooled) + sizeof(tf::Storage));

  const Tensor sum = inline_a + inline_b;  // an inline output of an op
  for (int64_t i = 0; i < kInlineFloats; ++i) {
    EXPECT_EQ(sum.at<float>({i}), -0.5f);
    EXPECT_EQ(inline_a.at<float>({i}), 1.5f);
  }
  EXPECT_EQ(pooled.sum().item<int64_t>(), 3 * kPooledBytes);
  pooled = Tensor();
  EXPECT_EQ(tf::memory_stats().in_use_bytes, before.in_use_bytes);
}

TEST(Memory, FromBlobBorrowsWithoutCopying) {
  std::vector<float> host = {1, 2, 3, 4, 5, 6};
  bool released = false;
  {
    Tensor t = Tensor::from_blob(host.data(), {3, 2}, {1, 3}, DType::F32, tf::Device::cpu(),
                                 [&](void*) { released = true; });
    EXPECT_EQ(t.data_ptr(), host.data());
    EXPECT_EQ(t.at<float>({2, 1}), 6.f);
    EXPECT_EQ(t.at<float>({0, 1}), 4.f);
    host[5] = 60.f;
    EXPECT_EQ(t.at<float>({2, 1}), 60.f);
  }
  EXPECT_TRUE(released);
}

TEST(TensorHandles, CloneSharesStorageAndCopyDoesNot) {
  Tensor a = Tensor::from_vec({1.0, 2.0, 3.0}, {3});
  Tensor c = a.clone();
  EXPECT_TRUE(c.shares_storage(a));
  EXPECT_NE(c.id(), a.id());
  a.data<double>()[0] = 10.0;
  EXPECT_EQ(c.at<double>({0}), 10.0);
  Tensor d = a.copy();
  EXPECT_FALSE(d.shares_storage(a));
  EXPECT_THROW(a.data<float>(), tf::DTypeError);
  EXPECT_THROW(a.at<double>({3}), tf::IndexError);
  EXPECT_THROW(a.item<double>(), tf::InvalidArgument);
  EXPECT_THROW(Tensor::from_vec({1.f, 2.f}, {3}), tf::ShapeError);
  EXPECT_THROW(Tensor::empty({2, -1}), tf::ShapeError);
}

TEST(Threads, SetNumThreadsValidates) {
  const int before = tf::get_num_threads();
  tf::set_num_threads(1);
  EXPECT_EQ(tf::get_num_threads(), 1);
  EXPECT_THROW(tf::set_num_threads(0), tf::InvalidArgument);
  tf::set_num_threads(before);
}

TEST(Dispatch, HiddenFromLeavesOuterHooksWatching) {
  Recorder outer, inner;
  Tensor a = Tensor::from_vec({1.f, 2.f}, {2});
  tf::ScopedHook outer_scope(&outer);
  tf::ScopedHook inner_scope(&inner);
  {
    tf::HiddenFrom hidden(&inner);
    a.copy();
  }
  a.cast(DType::F64);
  EXPECT_EQ(inner.ops, (std::vector<std::string>{"cast"}));
  EXPECT_EQ(outer.ops, (std::vector<std::string>{"copy", "cast"}));
}
