#include "src/data/ordered_workers.hpp"

#include <algorithm>

#include "tenflowers/core/parallel.hpp"

namespace tenflowers::data::detail {

OrderedWorkers::OrderedWorkers(int workers) {
  TF_CHECK(workers >= 1, InvalidArgument, "OrderedWorkers: expected at least 1 worker, got ",
           workers);
  const int kernel_threads = std::max(1, get_num_threads() / workers);
  try {
    for (int i = 0; i < workers; ++i)
      threads_.emplace_back([this, kernel_threads] { work(kernel_threads); });
  } catch (...) {
    stop_and_join();
    throw;
  }
}

OrderedWorkers::~OrderedWorkers() {
  stop_and_join();
}

void OrderedWorkers::stop_and_join() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    queue_.clear();
  }
  work_ready_.notify_all();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

void OrderedWorkers::submit(std::function<Element()> task) {
  auto slot = std::make_shared<Slot>();
  {
    std::lock_guard lock(mutex_);
    queue_.push_back({slot, std::move(task)});
  }
  order_.push_back(std::move(slot));
  work_ready_.notify_one();
}

Element OrderedWorkers::take() {
  TF_CHECK(!order_.empty(), InternalError, "OrderedWorkers::take: no task is pending");
  std::shared_ptr<Slot> slot = std::move(order_.front());
  order_.pop_front();
  std::unique_lock lock(mutex_);
  task_done_.wait(lock, [&] { return slot->done; });
  if (slot->error) std::rethrow_exception(slot->error);
  return std::move(slot->result);
}

void OrderedWorkers::work(int kernel_threads) {
  const ThreadLimitScope limit(kernel_threads);
  std::unique_lock lock(mutex_);
  for (;;) {
    work_ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    Task task = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    Element result;
    std::exception_ptr error;
    try {
      result = task.run();
    } catch (...) {
      error = std::current_exception();
    }
    task.run = nullptr;  // release the task's captures outside the lock
    lock.lock();
    task.slot->result = std::move(result);
    task.slot->error = error;
    task.slot->done = true;
    task_done_.notify_all();
  }
}

}  // namespace tenflowers::data::detail
