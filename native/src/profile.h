// Wall time per phase of Context::step, to find the serial parts between parallel regions.
// Compiled in only with the cmake option DYN_PROFILE=ON (-DDYN_PROFILE=1): in normal builds
// every member is an empty inline function, so a step pays nothing for it.
#pragma once

#include <cstdint>
#include <string>

#if defined(DYN_PROFILE)
#include <chrono>
#include <cstdio>
#endif

namespace dyn {

enum class Phase : int {
    Embed,      // validation and embedding lookup
    AttnNorm,
    QkvQuant,   // quantizing/packing the normed activations for q, k, v
    Qkv,
    Rope,       // RoPE, biases and the K/V store
    Attention,
    OutQuant,
    Wo,
    FfnNorm,
    GateUpQuant,
    GateUp,
    Silu,
    DownQuant,
    Down,
    Head,       // output norm, its quantization and the output matmul
    Count,
};

class StepProfile {
public:
#if defined(DYN_PROFILE)
    static constexpr bool kEnabled = true;
    void start() {
        last_ = std::chrono::steady_clock::now();
        steps_++;
    }
    void mark(Phase p) {
        const auto t = std::chrono::steady_clock::now();
        ns_[static_cast<int>(p)] += std::chrono::duration_cast<std::chrono::nanoseconds>(t - last_).count();
        last_ = t;
    }
    // Microseconds per step of each phase since the last call, as text; resets the sums.
    std::string take() {
        static const char* names[] = {"embed", "attn_norm", "qkv_quant", "qkv", "rope", "attention", "out_quant", "wo",
                                      "ffn_norm", "gate_up_quant", "gate_up", "silu", "down_quant", "down", "head"};
        std::string s;
        int64_t total = 0;
        for (int64_t v : ns_) total += v;
        char line[96];
        for (int i = 0; i < static_cast<int>(Phase::Count); i++) {
            const double per = steps_ > 0 ? ns_[i] / 1e3 / steps_ : 0.0;
            std::snprintf(line, sizeof line, "%-14s %10.1f us/step %5.1f %%\n", names[i], per,
                          total > 0 ? 100.0 * ns_[i] / total : 0.0);
            s += line;
            ns_[i] = 0;
        }
        std::snprintf(line, sizeof line, "%-14s %10.1f us/step over %lld steps\n", "total",
                      steps_ > 0 ? total / 1e3 / steps_ : 0.0, static_cast<long long>(steps_));
        s += line;
        steps_ = 0;
        return s;
    }

private:
    std::chrono::steady_clock::time_point last_{};
    int64_t ns_[static_cast<int>(Phase::Count)] = {};
    int64_t steps_ = 0;
#else
    static constexpr bool kEnabled = false;
    void start() {}
    void mark(Phase) {}
    std::string take() { return {}; }
#endif
};

}  // namespace dyn
