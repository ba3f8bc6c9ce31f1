// PoolAllocator: per-thread reuse of freed blocks, objects freed on another thread, threads
// that exit with blocks in their lists, and sizes that are not pooled.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <memory>
#include <thread>
#include <vector>

#include <tenflowers/tenflowers.hpp>

#include "src/core/object_pool.hpp"

namespace tf = tenflowers;
using tf::detail::PoolAllocator;

namespace {

struct Counted {
  static inline int live = 0;
  std::array<char, 100> payload{};
  explicit Counted(char c) {
    payload.fill(c);
    ++live;
  }
  ~Counted() { --live; }
};

struct Large {  // beyond the pooled sizes: plain operator new
  std::array<char, 4096> payload{};
};

template <class T, class... Args>
std::shared_ptr<T> make_pooled(Args&&... args) {
  return std::allocate_shared<T>(PoolAllocator<T>(), std::forward<Args>(args)...);
}

}  // namespace

TEST(ObjectPool, AFreedBlockIsReusedOnTheSameThread) {
  const void* first = nullptr;
  {
    auto a = make_pooled<Counted>('a');
    first = a.get();
    EXPECT_EQ(a->payload[99], 'a');
    EXPECT_EQ(Counted::live, 1);
  }
  EXPECT_EQ(Counted::live, 0);
  auto b = make_pooled<Counted>('b');
  EXPECT_EQ(b.get(), first);  // the last freed block comes back first
  EXPECT_EQ(b->payload[0], 'b');
}

TEST(ObjectPool, BlocksMoveBetweenThreadsAndThreadsExitCleanly) {
  std::vector<std::shared_ptr<Counted>> made;
  std::thread producer([&] {
    for (int i = 0; i < 1000; ++i) made.push_back(make_pooled<Counted>('p'));
    // Some blocks die here and stay in this thread's list until it exits.
    for (int i = 0; i < 100; ++i) made.pop_back();
  });
  producer.join();
  EXPECT_EQ(Counted::live, 900);
  made.clear();  // freed on this thread: they join this thread's list
  EXPECT_EQ(Counted::live, 0);
  std::thread consumer([] {
    std::vector<std::shared_ptr<Counted>> mine;
    for (int i = 0; i < 500; ++i) mine.push_back(make_pooled<Counted>('c'));
  });
  consumer.join();
  EXPECT_EQ(Counted::live, 0);
}

TEST(ObjectPool, LargeObjectsAndArraysBypassThePool) {
  auto big = make_pooled<Large>();
  big->payload[4095] = 'x';
  EXPECT_EQ(big->payload[4095], 'x');
  PoolAllocator<int> ints;
  int* many = ints.allocate(10);
  for (int i = 0; i < 10; ++i) many[i] = i;
  EXPECT_EQ(many[9], 9);
  ints.deallocate(many, 10);
}

TEST(ObjectPool, TensorsMadeOnWorkerThreadsOutliveThem) {
  std::vector<tf::Tensor> results(4);
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&results, w] {
      tf::Tensor x = tf::Tensor::from_vec({1.0f, 2.0f}, {2});
      for (int i = 0; i < 100; ++i) x = x + x.view();
      results[static_cast<size_t>(w)] = x;
    });
  }
  for (std::thread& t : workers) t.join();
  for (const tf::Tensor& r : results) EXPECT_EQ(r.to_vector<float>()[1], std::ldexp(2.0f, 100));
  tf::detail::pool_release_thread_cache();
}
