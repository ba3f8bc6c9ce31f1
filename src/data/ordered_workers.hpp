#pragma once
// A pool of worker threads that runs element-producing tasks and hands their results back in
// submission order, each task's exception included. Shared by parallel map and DataLoader.
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "tenflowers/data/dataset.hpp"

namespace tenflowers::data::detail {

class OrderedWorkers {
 public:
  // Each worker caps its kernels at max(1, get_num_threads() / workers) threads (read now, on
  // the constructing thread), so the workers together use about as many kernel threads as one
  // caller would.
  explicit OrderedWorkers(int workers);
  // Drops queued tasks, waits for running ones and joins the workers.
  ~OrderedWorkers();
  OrderedWorkers(const OrderedWorkers&) = delete;
  OrderedWorkers& operator=(const OrderedWorkers&) = delete;

  void submit(std::function<Element()> task);
  size_t pending() const { return order_.size(); }  // submitted and not yet taken
  // The result of the oldest pending task, waiting for it; rethrows its exception.
  Element take();

 private:
  struct Slot {
    Element result;
    std::exception_ptr error;
    bool done = false;
  };
  struct Task {
    std::shared_ptr<Slot> slot;
    std::function<Element()> run;
  };
  void work(int kernel_threads);
  void stop_and_join();

  std::mutex mutex_;
  std::condition_variable work_ready_, task_done_;
  std::deque<Task> queue_;                   // guarded by mutex_
  bool stopping_ = false;                    // guarded by mutex_
  std::deque<std::shared_ptr<Slot>> order_;  // the consumer's view, in submission order
  std::vector<std::thread> threads_;
};

}  // namespace tenflowers::data::detail
