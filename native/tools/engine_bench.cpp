// A C-only driver of the engine for kernel work: the same scenarios as bench/engine (decode at
// batch 1/8/32 after a 32-token prompt, a 512-token prefill) without the .NET host, reporting
// wall-clock and process-CPU tokens per second, plus a logits dump so two builds can be compared
// bit for bit (`--dump FILE`, then `cmp`). Built only with -DDYN_BUILD_TOOLS=ON.
//
//   engine_bench MODEL [--threads N] [--steps N] [--dump FILE] [--only prefill|decode] [--spin US] [--step-spin US] [--greedy N]
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "dynamo_engine.h"

namespace {

double now(clockid_t clock) {
    timespec ts{};
    clock_gettime(clock, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

void check(dyn_status s, const char* what) {
    if (s != DYN_OK) {
        std::fprintf(stderr, "%s failed: %s\n", what, dyn_last_error());
        std::exit(1);
    }
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::vector<int32_t> prompt(int length, int salt, int vocab) {
    std::vector<int32_t> p(static_cast<size_t>(length));
    for (int i = 0; i < length; i++) p[static_cast<size_t>(i)] = 1 + (i * 7919 + salt * 104729) % (vocab - 2);
    return p;
}

struct Timing {
    std::vector<double> wall, cpu;
    void add(double w, double c) {
        wall.push_back(w);
        cpu.push_back(c);
    }
};

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: engine_bench MODEL [--threads N] [--steps N] [--dump FILE] [--only prefill|decode] [--spin US] [--step-spin US] [--greedy N]\n");
        return 2;
    }
    const char* path = argv[1];
    int threads = 1, steps = 16, spin = -1, step_spin = -1, greedy = 0;
    const char* dump = nullptr;
    std::string only;
    for (int i = 2; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        if (a == "--threads") threads = std::atoi(argv[i + 1]);
        else if (a == "--steps") steps = std::atoi(argv[i + 1]);
        else if (a == "--dump") dump = argv[i + 1];
        else if (a == "--only") only = argv[i + 1];
        else if (a == "--spin") spin = std::atoi(argv[i + 1]);
        else if (a == "--step-spin") step_spin = std::atoi(argv[i + 1]);
        else if (a == "--greedy") greedy = std::atoi(argv[i + 1]);
        else {
            std::fprintf(stderr, "unknown option %s\n", a.c_str());
            return 2;
        }
    }
    dyn_model* model = nullptr;
    dyn_model_params mp{};
    check(dyn_model_load(path, &mp, &model), "model load");
    dyn_model_info info{};
    check(dyn_model_get_info(model, &info), "model info");
    const int prompt_len = 32, prefill_len = 512, warmup = 4, max_b = 32;
    const int per_seq = (prompt_len + std::max(warmup + steps, greedy) + 15) / 16 + 1;
    const int n_blocks = per_seq * max_b + prefill_len / 16 + 2;
    dyn_kv_pool* kv = nullptr;
    check(dyn_kv_pool_create(model, n_blocks, 16, DYN_KV_F32, &kv), "pool");
    dyn_context_params cp{};
    cp.max_batch_tokens = 512;
    cp.max_context = 4096;
    cp.n_threads = threads;
    dyn_context* ctx = nullptr;
    check(dyn_context_create(model, kv, &cp, &ctx), "context");
    if (spin >= 0) check(dyn_context_set_spin(ctx, spin), "spin");
    if (step_spin >= 0) check(dyn_context_set_step_spin(ctx, step_spin), "step spin");
    std::printf("kernels %s, %d threads, spin %d us, step spin %d us\n", dyn_kernels_name(), dyn_context_threads(ctx),
                dyn_context_spin(ctx), dyn_context_step_spin(ctx));
    std::vector<float> logits(static_cast<size_t>(max_b) * info.n_vocab);
    FILE* out = dump != nullptr ? std::fopen(dump, "wb") : nullptr;
    auto run = [&](std::vector<dyn_seq>& seqs) {
        dyn_batch b{};
        b.seqs = seqs.data();
        b.n_seqs = static_cast<int32_t>(seqs.size());
        b.logits = logits.data();
        b.logits_len = static_cast<int64_t>(logits.size());
        check(dyn_step(ctx, &b), "step");
        if (out != nullptr) {
            int n = 0;
            for (const dyn_seq& s : seqs) n += s.want_logits;
            std::fwrite(logits.data(), sizeof(float), static_cast<size_t>(n) * info.n_vocab, out);
        }
    };
    // With a DYN_PROFILE build: where the timed steps of each scenario spent their time.
    auto print_profile = [&] {
        char text[4096];
        if (dyn_context_profile(ctx, text, sizeof text) >= 0) std::printf("%s", text);
    };
    print_profile();
    std::vector<int32_t> tables(static_cast<size_t>(n_blocks));
    for (int i = 0; i < n_blocks; i++) tables[static_cast<size_t>(i)] = i;
    // --greedy N: N greedy tokens after each of four prompts (printed), to compare two builds.
    for (int g = 0; g < (greedy > 0 ? 4 : 0); g++) {
        std::vector<int32_t> seq = prompt(prompt_len, 1000 + g, info.n_vocab);
        std::printf("greedy %d:", g);
        for (int i = 0; i < greedy; i++) {
            const int start = i == 0 ? 0 : static_cast<int>(seq.size()) - 1;
            std::vector<dyn_seq> one{{seq.data() + start, tables.data(), static_cast<int32_t>(seq.size()) - start, start, per_seq, 1}};
            run(one);
            const float* row = logits.data();
            const int32_t best = static_cast<int32_t>(std::max_element(row, row + info.n_vocab) - row);
            std::printf(" %d", best);
            seq.push_back(best);
        }
        std::printf("\n");
    }
    if (greedy > 0) only = "none";
    if (only != "prefill" && only != "none") {
        for (int b : {1, 8, 32}) {
            std::vector<std::vector<int32_t>> prompts;
            for (int s = 0; s < b; s++) {
                prompts.push_back(prompt(prompt_len, s, info.n_vocab));
                std::vector<dyn_seq> one{{prompts.back().data(), tables.data() + s * per_seq, prompt_len, 0, per_seq, 0}};
                run(one);
            }
            Timing t;
            std::vector<int32_t> toks(static_cast<size_t>(b));
            for (int step = 0; step < warmup + steps; step++) {
                std::vector<dyn_seq> seqs;
                for (int s = 0; s < b; s++) {
                    toks[static_cast<size_t>(s)] = 1 + (step * 31 + s) % 1000;
                    seqs.push_back({&toks[static_cast<size_t>(s)], tables.data() + s * per_seq, 1, prompt_len + step, per_seq, 1});
                }
                if (step == warmup) dyn_context_profile(ctx, nullptr, 0);
                const double w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
                run(seqs);
                if (step >= warmup) t.add(now(CLOCK_MONOTONIC) - w0, now(CLOCK_PROCESS_CPUTIME_ID) - c0);
            }
            std::printf("decode%-4d %9.1f tok/s %9.1f tok/CPU-s\n", b, b / median(t.wall), b / median(t.cpu));
            print_profile();
        }
    }
    if (only != "decode" && only != "none") {
        const std::vector<int32_t> p = prompt(prefill_len, 99, info.n_vocab);
        Timing t;
        for (int r = 0; r < 4; r++) {
            std::vector<dyn_seq> seqs{{p.data(), tables.data() + max_b * per_seq, prefill_len, 0, prefill_len / 16 + 1, 1}};
            if (r == 1) dyn_context_profile(ctx, nullptr, 0);
            const double w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
            run(seqs);
            if (r > 0) t.add(now(CLOCK_MONOTONIC) - w0, now(CLOCK_PROCESS_CPUTIME_ID) - c0);
        }
        std::printf("prefill512 %9.1f tok/s %9.1f tok/CPU-s\n", prefill_len / median(t.wall), prefill_len / median(t.cpu));
        print_profile();
    }
    if (out != nullptr) std::fclose(out);
    dyn_context_free(ctx);
    dyn_kv_pool_free(kv);
    dyn_model_free(model);
    return 0;
}
