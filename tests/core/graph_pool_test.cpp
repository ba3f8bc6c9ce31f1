// The caching pool's graph pools (CUDA graph capture, memory.hpp) on a host allocator that
// counts its calls, so the rules are checked without a GPU: a capture's blocks serve only the
// capture, are reused within it, never go back to the device during it, and join the cache when
// the graph and its tensors are gone. Also the device-independent parts of CudaGraph and
// copy_into.
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>

#include "tenflowers/core/cuda_graph.hpp"
#include "tenflowers/tenflowers.hpp"

namespace tenflowers::testing {
namespace {

struct Calls {
  int allocations = 0, frees = 0;
  bool out_of_memory = false;
};

class CountingAllocator final : public RawAllocator {
 public:
  explicit CountingAllocator(Calls& calls) : calls_(calls) {}
  void* allocate(size_t nbytes) override {
    if (calls_.out_of_memory) throw OutOfMemoryError("no memory left (simulated)");
    ++calls_.allocations;
    return std::malloc(nbytes);
  }
  void deallocate(void* ptr, size_t) override {
    ++calls_.frees;
    std::free(ptr);
  }
  Device device() const override { return Device::cpu(); }

 private:
  Calls& calls_;
};

constexpr size_t kBlock = 1000;
const size_t kRounded = CachingAllocator::round_size(kBlock);

TEST(GraphPools, CaptureBlocksServeOnlyTheGraphUntilItIsReleased) {
  Calls calls;
  CachingAllocator pool(std::make_unique<CountingAllocator>(calls), size_t{1} << 30);
  void* cached = pool.allocate(kBlock);
  pool.deallocate(cached, kBlock);

  const uint64_t id = pool.begin_graph_pool();
  EXPECT_TRUE(pool.capturing());
  void* a = pool.allocate(kBlock);  // the cached block joins the graph's pool
  EXPECT_EQ(a, cached);
  EXPECT_EQ(pool.stats().cached_bytes, 0u);
  pool.deallocate(a, kBlock);  // freed during the capture: reused by it
  EXPECT_EQ(pool.stats().graph_pool_bytes, kRounded);
  void* b = pool.allocate(kBlock);
  EXPECT_EQ(b, a);
  void* kept = pool.allocate(kBlock);  // a tensor the capture made and that outlives it
  EXPECT_EQ(calls.allocations, 2);
  pool.end_graph_pool();
  EXPECT_FALSE(pool.capturing());

  pool.deallocate(b, kBlock);  // after the capture: still the graph's
  EXPECT_EQ(pool.stats().graph_pool_bytes, kRounded);
  void* eager = pool.allocate(kBlock);  // eager work never gets a graph block
  EXPECT_NE(eager, b);
  EXPECT_NE(eager, kept);
  EXPECT_EQ(calls.allocations, 3);

  pool.release_graph_pool(id);  // the graph is gone: its free block is cached again
  EXPECT_EQ(pool.stats().graph_pool_bytes, 0u);
  EXPECT_EQ(pool.stats().cached_bytes, kRounded);
  EXPECT_EQ(pool.allocate(kBlock), b);
  pool.deallocate(b, kBlock);
  pool.deallocate(kept, kBlock);  // the capture's tensor dies: its block is cached too
  pool.deallocate(eager, kBlock);
  const MemoryStats s = pool.stats();
  EXPECT_EQ(s.in_use_bytes, 0u);
  EXPECT_EQ(s.cached_bytes, 3 * kRounded);
  EXPECT_EQ(s.graph_pool_bytes, 0u);
  EXPECT_EQ(calls.frees, 0);
}

// The captured work may read a block made before the capture; freed during it, the block must
// not go to eager work while the graph can replay.
TEST(GraphPools, BlocksFreedDuringACaptureJoinItsPool) {
  Calls calls;
  CachingAllocator pool(std::make_unique<CountingAllocator>(calls), size_t{1} << 30);
  void* before = pool.allocate(kBlock);
  const uint64_t id = pool.begin_graph_pool();
  pool.deallocate(before, kBlock);
  pool.end_graph_pool();
  EXPECT_EQ(pool.stats().graph_pool_bytes, kRounded);
  void* eager = pool.allocate(kBlock);
  EXPECT_NE(eager, before);
  pool.release_graph_pool(id);
  EXPECT_EQ(pool.stats().cached_bytes, kRounded);
  pool.deallocate(eager, kBlock);
  EXPECT_EQ(pool.stats().in_use_bytes, 0u);
}

// A block of a released graph freed during another capture joins that capture's pool.
TEST(GraphPools, ABlockOfAReleasedGraphFreedDuringACaptureJoinsIt) {
  Calls calls;
  CachingAllocator pool(std::make_unique<CountingAllocator>(calls), size_t{1} << 30);
  const uint64_t first = pool.begin_graph_pool();
  void* made = pool.allocate(kBlock);
  pool.end_graph_pool();
  pool.release_graph_pool(first);
  const uint64_t second = pool.begin_graph_pool();
  pool.deallocate(made, kBlock);
  EXPECT_EQ(pool.stats().graph_pool_bytes, kRounded);
  EXPECT_EQ(pool.allocate(kBlock), made);  // reused by the second capture
  pool.end_graph_pool();
  pool.deallocate(made, kBlock);
  pool.release_graph_pool(second);
  EXPECT_EQ(pool.stats().cached_bytes, kRounded);
  EXPECT_EQ(pool.stats().graph_pool_bytes, 0u);
}

TEST(GraphPools, NothingGoesBackToTheDeviceDuringACapture) {
  Calls calls;
  CachingAllocator pool(std::make_unique<CountingAllocator>(calls), 0);  // caches nothing
  void* cached = pool.allocate(kBlock);
  const uint64_t id = pool.begin_graph_pool();
  EXPECT_THROW(pool.release_cache(), UnsupportedError);
  calls.out_of_memory = true;
  EXPECT_THROW(pool.allocate(kBlock), OutOfMemoryError);  // no release-and-retry
  calls.out_of_memory = false;
  void* during = pool.allocate(2 * kBlock);
  pool.end_graph_pool();
  EXPECT_EQ(calls.frees, 0);
  pool.deallocate(cached, kBlock);  // cache limit 0: back to the device now
  EXPECT_EQ(calls.frees, 1);
  pool.deallocate(during, 2 * kBlock);  // still the graph's
  EXPECT_EQ(calls.frees, 1);
  pool.release_graph_pool(id);
  EXPECT_EQ(calls.frees, 2);
}

TEST(GraphPools, OneCaptureAtATime) {
  Calls calls;
  CachingAllocator pool(std::make_unique<CountingAllocator>(calls), size_t{1} << 30);
  const uint64_t id = pool.begin_graph_pool();
  EXPECT_THROW(pool.begin_graph_pool(), InvalidArgument);
  pool.end_graph_pool();
  pool.release_graph_pool(id);
}

TEST(CudaGraph, TheCpuCannotRecord) {
  bool ran = false;
  EXPECT_THROW(CudaGraph::capture(Device::cpu(), [&] { ran = true; }), UnsupportedError);
  EXPECT_FALSE(ran);
  EXPECT_FALSE(capturing(Device::cpu()));
  EXPECT_THROW(CudaGraph::before_each_replay(Device::cuda(0), [] {}), InvalidArgument);
}

TEST(CopyInto, WritesInPlaceConvertingAndBroadcasting) {
  const Tensor dst = zeros({2, 3}, DType::F32);
  const void* data = dst.data_ptr();
  copy_into(dst, Tensor::from_vec<double>({1.5, 2.5, 3.5}, {3}));
  EXPECT_EQ(dst.data_ptr(), data);
  EXPECT_EQ(dst.to_vector<float>(), (std::vector<float>{1.5f, 2.5f, 3.5f, 1.5f, 2.5f, 3.5f}));
  EXPECT_THROW(copy_into(dst, zeros({4})), ShapeError);
  EXPECT_THROW(copy_into(dst.transpose(0, 1), zeros({3, 2})), TensorError);  // not contiguous
}

}  // namespace
}  // namespace tenflowers::testing
