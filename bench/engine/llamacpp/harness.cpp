// Drives the llama.cpp build that ships in the npm package @node-llama-cpp/linux-x64
// through its C API, without its headers: only long-stable entry points are used, and
// parameter structs are taken from llama.cpp's own *_default_params() into oversized
// buffers (returned and passed in memory by the x86-64 SysV ABI).
//
//   harness quantize IN OUT FTYPE         llama_model_quantize (e.g. 2 = Q4_0, 15 = Q4_K_M, 18 = Q6_K)
//   harness logits MODEL OUT.f32 TOKENS.. logits after the prompt, as raw float32
//   harness greedy MODEL N TOKENS..       N greedy tokens after the prompt
//   harness bench MODEL THREADS [STEPS]   the C# engine bench's scenarios, STEPS timed decode steps (32)
#include <dlfcn.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

namespace {

struct Params { alignas(16) unsigned char bytes[1024]; };
struct Batch {
    int32_t n_tokens;
    int32_t* token;
    float* embd;
    int32_t* pos;
    int32_t* n_seq_id;
    int32_t** seq_id;
    int8_t* logits;
};

template <typename F>
F sym(void* lib, const char* name) {
    void* p = dlsym(lib, name);
    if (p == nullptr) {
        std::fprintf(stderr, "missing symbol %s\n", name);
        std::exit(2);
    }
    return reinterpret_cast<F>(p);
}

void* open_lib(const std::string& dir, const char* name) {
    void* lib = dlopen((dir + "/" + name).c_str(), RTLD_NOW | RTLD_GLOBAL);
    if (lib == nullptr) {
        std::fprintf(stderr, "dlopen %s: %s\n", name, dlerror());
        std::exit(2);
    }
    return lib;
}

// type_k/type_v (GGML_TYPE_F16 = 1 by default) sit between two pairs of null pointers
// (cb_eval, cb_eval_user_data | abort_callback, abort_callback_data); set both to F32 (0).
bool set_kv_f32(Params& cp) {
    static const unsigned char pattern[40] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
                                              1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    for (size_t off = 0; off + sizeof(pattern) <= 256; off += 4) {
        if (std::memcmp(cp.bytes + off, pattern, sizeof(pattern)) == 0) {
            std::memset(cp.bytes + off + 16, 0, 8);
            return true;
        }
    }
    std::fprintf(stderr, "could not locate type_k/type_v in llama_context_params\n");
    return false;
}

// flash_attn_type (AUTO = -1) is the last of four -1 enums before rope_freq_base/scale (0.0f).
bool set_no_flash_attn(Params& cp) {
    static const unsigned char pattern[24] = {255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
                                              255, 255, 255, 255, 0, 0, 0, 0, 0, 0, 0, 0};
    for (size_t off = 0; off + sizeof(pattern) <= 256; off += 4) {
        if (std::memcmp(cp.bytes + off, pattern, sizeof(pattern)) == 0) {
            std::memset(cp.bytes + off + 12, 0, 4);
            return true;
        }
    }
    std::fprintf(stderr, "could not locate flash_attn_type in llama_context_params\n");
    return false;
}

// The leading fields of this build's llama_context_params: { uint32 n_ctx, n_batch, n_ubatch,
// n_seq_max; three 32-bit fields (0, 0, 1 by default); int32 n_threads, n_threads_batch (4, 4 =
// GGML_DEFAULT_N_THREADS); uint32; then the four -1 enums rope_scaling_type..flash_attn_type }.
// Checked against the defaults here, and read back through llama_n_threads & co. after the
// context exists, so a changed layout fails loudly instead of benchmarking something else.
bool set_sizes(Params& cp, uint32_t n_ctx, uint32_t n_batch, uint32_t n_seq, int32_t threads) {
    int32_t head[14];
    std::memcpy(head, cp.bytes, sizeof(head));
    const bool enums = head[10] == -1 && head[11] == -1 && head[12] == -1 && head[13] == -1;
    if (head[3] != 1 || head[7] != 4 || head[8] != 4 || !enums) {
        std::fprintf(stderr, "unexpected llama_context_params layout\n");
        return false;
    }
    const uint32_t sizes[4] = {n_ctx, n_batch, n_batch, n_seq};
    std::memcpy(cp.bytes, sizes, sizeof(sizes));
    std::memcpy(cp.bytes + 28, &threads, 4);
    std::memcpy(cp.bytes + 32, &threads, 4);
    return true;
}

// Same prompt tokens as the C# bench (Program.cs Prompt).
std::vector<int32_t> prompt(int length, int salt) {
    std::vector<int32_t> t(static_cast<size_t>(length));
    for (int i = 0; i < length; i++) t[static_cast<size_t>(i)] = 1 + ((i * 7919) + (salt * 104729)) % 31990;
    return t;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double now_s() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Process CPU time (all threads), nanosecond resolution.
double cpu_s() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 4) {
        std::fprintf(stderr, "usage: harness quantize IN OUT FTYPE | logits MODEL OUT TOKENS.. | greedy MODEL N TOKENS.. | bench MODEL THREADS\n");
        return 2;
    }
    const char* dir_env = std::getenv("LLAMA_BINS");
    const std::string dir = dir_env ? dir_env : "node_modules/@node-llama-cpp/linux-x64/bins/linux-x64";
    void* ggml = open_lib(dir, "libggml.v0.5.0.so");
    void* llama = open_lib(dir, "libllama.v0.5.0.so");
    sym<void (*)(const char*)>(ggml, "ggml_backend_load_all_from_path")(dir.c_str());
    sym<void (*)()>(llama, "llama_backend_init")();

    const std::string mode = argv[1];
    if (mode == "quantize") {
        auto defaults = sym<Params (*)()>(llama, "llama_model_quantize_default_params");
        auto quantize = sym<uint32_t (*)(const char*, const char*, const Params*)>(llama, "llama_model_quantize");
        Params p = defaults();
        const int32_t ftype = std::atoi(argv[4]);
        std::memcpy(p.bytes + 4, &ftype, 4);  // { int32 nthread; llama_ftype ftype; ... }
        return static_cast<int>(quantize(argv[2], argv[3], &p));
    }

    auto model_defaults = sym<Params (*)()>(llama, "llama_model_default_params");
    auto load = sym<void* (*)(const char*, Params)>(llama, "llama_model_load_from_file");
    auto ctx_defaults = sym<Params (*)()>(llama, "llama_context_default_params");
    auto init = sym<void* (*)(void*, Params)>(llama, "llama_init_from_model");
    auto get_one = sym<Batch (*)(int32_t*, int32_t)>(llama, "llama_batch_get_one");
    auto decode = sym<int32_t (*)(void*, Batch)>(llama, "llama_decode");
    auto logits_ith = sym<float* (*)(void*, int32_t)>(llama, "llama_get_logits_ith");
    auto n_vocab_fn = sym<int32_t (*)(const void*)>(llama, "llama_vocab_n_tokens");
    auto get_vocab = sym<const void* (*)(const void*)>(llama, "llama_model_get_vocab");

    void* model = load(argv[2], model_defaults());
    if (model == nullptr) return 3;
    if (mode == "bench") {
        // The C# bench's scenarios (bench/engine/Program.cs): per batch size b, b sequences each
        // prefilled with its own 32-token prompt (one decode call per sequence), 4 untimed
        // decode steps, then STEPS timed steps of one token per sequence in one llama_batch
        // (distinct seq ids, logits for every row); a 512-token prompt prefilled in one call
        // (one untimed run, then 3). Rates use the median step, so a burst of load from other
        // processes on the machine moves the figure less.
        auto batch_init = sym<Batch (*)(int32_t, int32_t, int32_t)>(llama, "llama_batch_init");
        auto batch_free = sym<void (*)(Batch)>(llama, "llama_batch_free");
        auto ctx_free = sym<void (*)(void*)>(llama, "llama_free");
        auto n_threads = sym<int32_t (*)(void*)>(llama, "llama_n_threads");
        auto n_threads_batch = sym<int32_t (*)(void*)>(llama, "llama_n_threads_batch");
        auto n_seq_max = sym<uint32_t (*)(void*)>(llama, "llama_n_seq_max");
        auto n_ubatch = sym<uint32_t (*)(void*)>(llama, "llama_n_ubatch");
        const int threads = std::atoi(argv[3]);
        const double start = now_s(), cpu_start = cpu_s();
        constexpr int kPrompt = 32, kWarm = 4, kPrefill = 512;
        const int steps = argc > 4 ? std::atoi(argv[4]) : 32;
        if (steps < 1 || kPrompt + kWarm + steps > 256) {
            std::fprintf(stderr, "STEPS must be in 1..%d (each sequence gets 256 cache cells)\n", 256 - kPrompt - kWarm);
            return 2;
        }
        auto make_ctx = [&](uint32_t n_ctx, uint32_t n_seq) -> void* {
            Params p = ctx_defaults();
            if (!set_sizes(p, n_ctx, kPrefill, n_seq, threads) || !set_kv_f32(p) || !set_no_flash_attn(p)) std::exit(6);
            void* c = init(model, p);
            if (c == nullptr) std::exit(4);
            if (n_threads(c) != threads || n_threads_batch(c) != threads || n_seq_max(c) != n_seq || n_ubatch(c) < std::min<uint32_t>(kPrefill, n_ctx)) {
                std::fprintf(stderr, "context has %d/%d threads, %u seqs, ubatch %u: parameter layout mismatch\n",
                             n_threads(c), n_threads_batch(c), n_seq_max(c), n_ubatch(c));
                std::exit(6);
            }
            return c;
        };
        auto fill = [](Batch& b, int i, int32_t token, int32_t pos, int32_t seq, bool logits) {
            b.token[i] = token;
            b.pos[i] = pos;
            b.n_seq_id[i] = 1;
            b.seq_id[i][0] = seq;
            b.logits[i] = logits ? 1 : 0;
        };
        for (const int nb : {1, 8, 32}) {
            void* c = make_ctx(static_cast<uint32_t>(nb) * 256, static_cast<uint32_t>(nb));
            Batch b = batch_init(kPrefill, 0, 1);
            for (int s = 0; s < nb; s++) {
                const auto t = prompt(kPrompt, s);
                b.n_tokens = kPrompt;
                for (int i = 0; i < kPrompt; i++) fill(b, i, t[static_cast<size_t>(i)], i, s, false);
                if (decode(c, b) != 0) return 5;
            }
            std::vector<double> times, cpu_times;
            for (int step = 0; step < kWarm + steps; step++) {
                b.n_tokens = nb;
                for (int s = 0; s < nb; s++) fill(b, s, 1 + ((step * 31) + s) % 1000, kPrompt + step, s, true);
                const double t0 = now_s(), c0 = cpu_s();
                if (decode(c, b) != 0) return 5;
                logits_ith(c, nb - 1);  // waits for the computation
                if (step >= kWarm) {
                    times.push_back(now_s() - t0);
                    cpu_times.push_back(cpu_s() - c0);
                }
            }
            std::printf("RESULT decode%d %.3f\n", nb, nb / median(times));
            // Tokens per CPU-second: with one thread, the engine's own work, whatever the load.
            std::printf("RESULT cpudecode%d %.3f\n", nb, nb / median(cpu_times));
            batch_free(b);
            ctx_free(c);
        }
        std::vector<double> times, cpu_times;
        const auto t = prompt(kPrefill, 99);
        for (int run = 0; run < 4; run++) {
            void* c = make_ctx(1024, 1);
            Batch b = batch_init(kPrefill, 0, 1);
            b.n_tokens = kPrefill;
            for (int i = 0; i < kPrefill; i++) fill(b, i, t[static_cast<size_t>(i)], i, 0, i == kPrefill - 1);
            const double t0 = now_s(), c0 = cpu_s();
            if (decode(c, b) != 0) return 5;
            logits_ith(c, -1);
            if (run > 0) {
                times.push_back(now_s() - t0);
                cpu_times.push_back(cpu_s() - c0);
            }
            batch_free(b);
            ctx_free(c);
        }
        std::printf("RESULT prefill%d %.3f\n", kPrefill, kPrefill / median(times));
        std::printf("RESULT cpuprefill%d %.3f\n", kPrefill, kPrefill / median(cpu_times));
        // CPU time over wall time for the whole run: how many cores the process kept busy.
        std::printf("RESULT coresbusy %.3f\n", (cpu_s() - cpu_start) / (now_s() - start));
        return 0;
    }
    Params cp = ctx_defaults();
    if (const char* kv = std::getenv("LLAMA_KV_F32"); kv != nullptr && kv[0] == '1' && !set_kv_f32(cp)) return 6;
    if (const char* fa = std::getenv("LLAMA_NO_FA"); fa != nullptr && fa[0] == '1' && !set_no_flash_attn(cp)) return 6;
    void* ctx = init(model, cp);
    if (ctx == nullptr) return 4;
    const int n_vocab = n_vocab_fn(get_vocab(model));
    const int first = mode == "logits" || mode == "greedy" ? 4 : 3;
    std::vector<int32_t> tokens;
    for (int i = first; i < argc; i++) tokens.push_back(std::atoi(argv[i]));
    if (decode(ctx, get_one(tokens.data(), static_cast<int32_t>(tokens.size()))) != 0) return 5;

    if (mode == "logits") {
        FILE* f = std::fopen(argv[3], "wb");
        std::fwrite(logits_ith(ctx, -1), sizeof(float), static_cast<size_t>(n_vocab), f);
        std::fclose(f);
        return 0;
    }
    const int n = std::atoi(argv[3]);
    for (int i = 0; i < n; i++) {
        const float* l = logits_ith(ctx, -1);
        int32_t best = 0;
        for (int v = 1; v < n_vocab; v++) if (l[v] > l[best]) best = v;
        std::printf("%d%s", best, i + 1 < n ? " " : "\n");
        if (decode(ctx, get_one(&best, 1)) != 0) return 5;
    }
    return 0;
}
