// A persistent pool: threads are created once and woken per parallel region,
// so a step never creates threads or allocates.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace dyn {

class ThreadPool {
public:
    // n_threads counts the calling thread, which always runs part 0.
    explicit ThreadPool(int n_threads);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int size() const { return n_threads_; }

    // Runs f(ith, nth) on every thread and returns when all have finished.
    template <typename F>
    void run(F&& f) {
        using Fn = std::remove_reference_t<F>;
        run_raw([](void* arg, int ith, int nth) { (*static_cast<Fn*>(arg))(ith, nth); }, &f);
    }

private:
    using RawFn = void (*)(void*, int, int);
    void run_raw(RawFn fn, void* arg);
    void worker(int ith);

    int n_threads_;
    std::vector<std::thread> threads_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable done_;
    std::atomic<uint64_t> generation_{0};
    std::atomic<int> pending_{0};
    bool stop_ = false;
    RawFn fn_ = nullptr;
    void* arg_ = nullptr;
};

// The [begin, end) share of n items for part ith of nth.
inline void split_range(int64_t n, int ith, int nth, int64_t& begin, int64_t& end) {
    begin = n * ith / nth;
    end = n * (ith + 1) / nth;
}

}  // namespace dyn
