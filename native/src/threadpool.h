// A persistent pool: threads are created once and woken per parallel region,
// so a step never creates threads or allocates.
//
// Waiting, on both sides of a region (workers for work, the caller for the last worker), has
// two budgets. Every wait first spins with pause instructions for up to spin_us. Inside a
// forward step (begin_step .. end_step, see StepScope) a wait then keeps polling, giving the
// CPU away with sched_yield between polls, until step_spin_us have passed since it began, and
// only then parks on a condition variable. A step runs dozens of regions microseconds apart;
// on a VM, waking a parked thread costs tens to hundreds of microseconds, so a thread that
// parked between two regions made a second thread slower than none. Yielding rather than
// pausing keeps an oversubscribed machine usable: another runnable process gets the core,
// which a pure busy-wait (llama.cpp's barriers) would hold. When the step ends, waits drop
// back to the short spin_us budget and then park, so an idle engine costs no CPU.
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
    // Pause-spin budget of every wait: a little more than the gap between two regions.
    static constexpr int kDefaultSpinMicros = 50;
    static constexpr int kMaxSpinMicros = 100000;
    // Total wait inside a step before parking: well above any gap between two regions of a
    // step, so only a caller that lost its core for that long makes the workers park.
    static constexpr int kDefaultStepSpinMicros = 4000;
    static constexpr int kMaxStepSpinMicros = 10000000;

    // n_threads counts the calling thread, which always runs part 0.
    explicit ThreadPool(int n_threads, int spin_us = kDefaultSpinMicros, int step_spin_us = kDefaultStepSpinMicros);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int size() const { return n_threads_; }
    int spin_us() const { return spin_us_.load(std::memory_order_relaxed); }
    void set_spin_us(int spin_us) { spin_us_.store(spin_us, std::memory_order_relaxed); }
    int step_spin_us() const { return step_spin_us_.load(std::memory_order_relaxed); }
    void set_step_spin_us(int step_spin_us) { step_spin_us_.store(step_spin_us, std::memory_order_relaxed); }
    // Workers asleep on the condition variable right now (neither spinning nor working).
    int parked() const { return parked_workers_.load(std::memory_order_relaxed); }

    // A forward step starts: waits use the step budget, and parked workers are woken now so
    // that their wake-up overlaps the caller's serial work before the first region.
    void begin_step();
    // The step is over: spinning waits fall back to spin_us and then park.
    void end_step();

    // Runs f(ith, nth) on every thread and returns when all have finished.
    template <typename F>
    void run(F&& f) {
        using Fn = std::remove_reference_t<F>;
        run_raw([](void* arg, int ith, int nth) { (*static_cast<Fn*>(arg))(ith, nth); }, &f);
    }

    // Runs f(begin, end, ith) over [0, n) in chunks of `chunk` items that the threads claim one
    // at a time, so a thread that the OS descheduled (or that woke late) leaves its share to the
    // others instead of holding the whole region back. Which thread computes an item never
    // changes the item's result.
    template <typename F>
    void run_chunks(int64_t n, int64_t chunk, F&& f) {
        if (n <= 0) {
            return;
        }
        if (chunk < 1) {
            chunk = 1;
        }
        if (n_threads_ == 1 || n <= chunk) {
            f(int64_t{0}, n, 0);
            return;
        }
        next_.store(0, std::memory_order_relaxed);
        run([&](int ith, int) {
            for (;;) {
                const int64_t b = next_.fetch_add(chunk, std::memory_order_relaxed);
                if (b >= n) {
                    return;
                }
                f(b, b + chunk < n ? b + chunk : n, ith);
            }
        });
    }

private:
    using RawFn = void (*)(void*, int, int);
    void run_raw(RawFn fn, void* arg);
    void worker(int ith);
    // Polls ready() within the budgets above; false when it did not hold in time. steps is
    // the last value of steps_ seen, so a parking worker knows which step it already spun for.
    template <typename Ready>
    bool spin_until(Ready ready, uint64_t& steps) const;

    int n_threads_;
    std::atomic<int> spin_us_;
    std::atomic<int> step_spin_us_;
    std::vector<std::thread> threads_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable done_;
    // Parked threads register here before their last check, so the side that publishes new
    // state (seq_cst on both) either sees them and notifies under the mutex or is seen by them.
    std::atomic<int> parked_workers_{0};
    std::atomic<bool> caller_parked_{false};
    std::atomic<uint64_t> generation_{0};
    // Odd while a step runs; begin_step and end_step each add one.
    std::atomic<uint64_t> steps_{0};
    std::atomic<int> pending_{0};
    std::atomic<int64_t> next_{0};
    bool stop_ = false;
    RawFn fn_ = nullptr;
    void* arg_ = nullptr;
};

// Marks one forward step on a pool for its lifetime (also when the step throws).
class StepScope {
public:
    explicit StepScope(ThreadPool& pool) : pool_(pool) { pool_.begin_step(); }
    ~StepScope() { pool_.end_step(); }
    StepScope(const StepScope&) = delete;
    StepScope& operator=(const StepScope&) = delete;

private:
    ThreadPool& pool_;
};

// The [begin, end) share of n items for part ith of nth.
inline void split_range(int64_t n, int ith, int nth, int64_t& begin, int64_t& end) {
    begin = n * ith / nth;
    end = n * (ith + 1) / nth;
}

}  // namespace dyn
