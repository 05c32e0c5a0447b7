#include "threadpool.h"

namespace dyn {

namespace {
// Brief spinning before sleeping keeps per-layer wake-ups cheap when cores are
// idle, while oversubscribed machines still fall back to blocking.
constexpr int kSpinIterations = 2000;
}  // namespace

ThreadPool::ThreadPool(int n_threads) : n_threads_(n_threads < 1 ? 1 : n_threads) {
    threads_.reserve(static_cast<size_t>(n_threads_ - 1));
    for (int i = 1; i < n_threads_; i++) {
        threads_.emplace_back([this, i] { worker(i); });
    }
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
        generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    for (auto& t : threads_) {
        t.join();
    }
}

void ThreadPool::run_raw(RawFn fn, void* arg) {
    if (n_threads_ == 1) {
        fn(arg, 0, 1);
        return;
    }
    {
        std::lock_guard<std::mutex> lock(mutex_);
        fn_ = fn;
        arg_ = arg;
        pending_.store(n_threads_ - 1, std::memory_order_relaxed);
        generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    fn(arg, 0, n_threads_);
    for (int spin = 0; spin < kSpinIterations; spin++) {
        if (pending_.load(std::memory_order_acquire) == 0) {
            return;
        }
        std::this_thread::yield();
    }
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return pending_.load(std::memory_order_acquire) == 0; });
}

void ThreadPool::worker(int ith) {
    uint64_t seen = 0;
    for (;;) {
        bool ready = false;
        for (int spin = 0; spin < kSpinIterations && !ready; spin++) {
            ready = generation_.load(std::memory_order_acquire) != seen;
            if (!ready) {
                std::this_thread::yield();
            }
        }
        RawFn fn;
        void* arg;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            wake_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
            seen = generation_.load(std::memory_order_acquire);
            if (stop_) {
                return;
            }
            fn = fn_;
            arg = arg_;
        }
        fn(arg, ith, n_threads_);
        if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            std::lock_guard<std::mutex> lock(mutex_);
            done_.notify_one();
        }
    }
}

}  // namespace dyn
