#include "threadpool.h"

#include <algorithm>
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

int clamp(int v, int hi) { return v < 0 ? 0 : (v > hi ? hi : v); }

}  // namespace

ThreadPool::ThreadPool(int n_threads, int spin_us, int step_spin_us)
    : n_threads_(n_threads < 1 ? 1 : n_threads),
      spin_us_(clamp(spin_us, kMaxSpinMicros)),
      step_spin_us_(clamp(step_spin_us, kMaxStepSpinMicros)) {
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

void ThreadPool::begin_step() {
    if (n_threads_ == 1) {
        return;
    }
    // seq_cst, then the parked count: the same hand-shake as a region's publication below.
    steps_.fetch_add(1);
    if (parked_workers_.load() > 0) {
        std::lock_guard<std::mutex> lock(mutex_);
        wake_.notify_all();
    }
}

void ThreadPool::end_step() {
    if (n_threads_ == 1) {
        return;
    }
    // Nobody is woken: spinning waits see the even count within a poll and shorten their budget.
    steps_.fetch_add(1, std::memory_order_release);
}

template <typename Ready>
bool ThreadPool::spin_until(Ready ready, uint64_t& steps) const {
    using clock = std::chrono::steady_clock;
    steps = steps_.load(std::memory_order_acquire);
    if (ready()) {
        return true;
    }
    auto since = clock::now();
    for (;;) {
        const auto pause_for = std::chrono::microseconds(spin_us_.load(std::memory_order_relaxed));
        const auto budget =
            (steps & 1) != 0 ? std::max(pause_for, std::chrono::microseconds(step_spin_us_.load(std::memory_order_relaxed)))
                             : pause_for;
        const auto waited = clock::now() - since;
        if (waited >= budget) {
            return ready();
        }
        if (waited < pause_for) {
            for (int i = 0; i < kPausesPerClockRead; i++) {
                if (ready()) {
                    return true;
                }
                cpu_pause();
            }
        } else {
            // Past the pause budget inside a step: poll, but let any other runnable thread
            // have this core in between (on an idle machine sched_yield returns at once).
            std::this_thread::yield();
            if (ready()) {
                return true;
            }
        }
        // A step starting or ending restarts the wait under the other budget.
        const uint64_t now_steps = steps_.load(std::memory_order_acquire);
        if (now_steps != steps) {
            steps = now_steps;
            since = clock::now();
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
    uint64_t steps = 0;
    if (spin_until([this] { return pending_.load(std::memory_order_acquire) == 0; }, steps)) {
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
        uint64_t steps = 0;
        while (!spin_until([&] { return generation_.load(std::memory_order_acquire) != seen; }, steps)) {
            std::unique_lock<std::mutex> lock(mutex_);
            parked_workers_.fetch_add(1);
            // Up for a region, or for the start of a step other than the one whose budget this
            // wait has just spent (begin_step wakes workers ahead of the step's first region).
            wake_.wait(lock, [&] {
                const uint64_t s = steps_.load();
                return generation_.load() != seen || ((s & 1) != 0 && s != steps);
            });
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
