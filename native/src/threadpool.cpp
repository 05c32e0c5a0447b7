#include "threadpool.h"

#include <chrono>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace dyn {

namespace {

inline void cpu_pause() {
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#else
    std::this_thread::yield();
#endif
}

// Pause instructions between clock reads: one pause is ~10–140 cycles depending on the core,
// so a handful keeps the overshoot past the spin budget well under a microsecond.
constexpr int kPausesPerClockRead = 8;

int clamp_spin(int spin_us) {
    return spin_us < 0 ? 0 : (spin_us > ThreadPool::kMaxSpinMicros ? ThreadPool::kMaxSpinMicros : spin_us);
}

}  // namespace

ThreadPool::ThreadPool(int n_threads, int spin_us)
    : n_threads_(n_threads < 1 ? 1 : n_threads), spin_us_(clamp_spin(spin_us)) {
    threads_.reserve(static_cast<size_t>(n_threads_ - 1));
    for (int i = 1; i < n_threads_; i++) {
        threads_.emplace_back([this, i] { worker(i); });
    }
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
        generation_.fetch_add(1);
    }
    wake_.notify_all();
    for (auto& t : threads_) {
        t.join();
    }
}

template <typename Ready>
bool ThreadPool::spin_until(Ready ready) const {
    if (ready()) {
        return true;
    }
    const int us = spin_us_.load(std::memory_order_relaxed);
    if (us <= 0) {
        return false;
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(us);
    for (;;) {
        for (int i = 0; i < kPausesPerClockRead; i++) {
            if (ready()) {
                return true;
            }
            cpu_pause();
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            return ready();
        }
    }
}

void ThreadPool::run_raw(RawFn fn, void* arg) {
    if (n_threads_ == 1) {
        fn(arg, 0, 1);
        return;
    }
    fn_ = fn;
    arg_ = arg;
    pending_.store(n_threads_ - 1, std::memory_order_relaxed);
    // seq_cst publish, then the parked count: a worker that registered as parked before this
    // point is notified; one that registers after it sees the new generation in its last check.
    generation_.fetch_add(1);
    if (parked_workers_.load() > 0) {
        std::lock_guard<std::mutex> lock(mutex_);
        wake_.notify_all();
    }
    fn(arg, 0, n_threads_);
    if (spin_until([this] { return pending_.load(std::memory_order_acquire) == 0; })) {
        return;
    }
    std::unique_lock<std::mutex> lock(mutex_);
    caller_parked_.store(true);
    done_.wait(lock, [this] { return pending_.load() == 0; });
    caller_parked_.store(false, std::memory_order_relaxed);
}

void ThreadPool::worker(int ith) {
    uint64_t seen = 0;
    for (;;) {
        if (!spin_until([&] { return generation_.load(std::memory_order_acquire) != seen; })) {
            std::unique_lock<std::mutex> lock(mutex_);
            parked_workers_.fetch_add(1);
            wake_.wait(lock, [&] { return generation_.load() != seen; });
            parked_workers_.fetch_sub(1, std::memory_order_relaxed);
        }
        seen = generation_.load(std::memory_order_acquire);
        if (stop_) {
            return;
        }
        fn_(arg_, ith, n_threads_);
        // seq_cst, then the caller's flag: the mirror image of the wake-up above.
        if (pending_.fetch_sub(1) == 1 && caller_parked_.load()) {
            std::lock_guard<std::mutex> lock(mutex_);
            done_.notify_one();
        }
    }
}

}  // namespace dyn
