// Drives the llama.cpp build that ships in the npm package @node-llama-cpp/linux-x64
// through its C API, without its headers: only long-stable entry points are used, and
// parameter structs are taken from llama.cpp's own *_default_params() into oversized
// buffers (returned and passed in memory by the x86-64 SysV ABI).
//
//   harness quantize IN OUT FTYPE         llama_model_quantize (e.g. 2 = Q4_0, 15 = Q4_K_M, 18 = Q6_K)
//   harness logits MODEL OUT.f32 TOKENS.. logits after the prompt, as raw float32
//   harness greedy MODEL N TOKENS..       N greedy tokens after the prompt
#include <dlfcn.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
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

}  // namespace

int main(int argc, char** argv) {
    if (argc < 4) {
        std::fprintf(stderr, "usage: harness quantize IN OUT FTYPE | logits MODEL OUT TOKENS.. | greedy MODEL N TOKENS..\n");
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
    Params cp = ctx_defaults();
    if (const char* kv = std::getenv("LLAMA_KV_F32"); kv != nullptr && kv[0] == '1') {
        // type_k/type_v (GGML_TYPE_F16 = 1 by default) sit between two pairs of null pointers
        // (cb_eval, cb_eval_user_data | abort_callback, abort_callback_data); set both to F32 (0).
        static const unsigned char pattern[40] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
                                                  1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        bool patched = false;
        for (size_t off = 0; off + sizeof(pattern) <= 256 && !patched; off += 4) {
            if (std::memcmp(cp.bytes + off, pattern, sizeof(pattern)) == 0) {
                std::memset(cp.bytes + off + 16, 0, 8);
                patched = true;
            }
        }
        if (!patched) {
            std::fprintf(stderr, "could not locate type_k/type_v in llama_context_params\n");
            return 6;
        }
    }
    if (const char* fa = std::getenv("LLAMA_NO_FA"); fa != nullptr && fa[0] == '1') {
        // flash_attn_type (AUTO = -1) is the last of four -1 enums before rope_freq_base/scale (0.0f).
        static const unsigned char pattern[24] = {255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
                                                  255, 255, 255, 255, 0, 0, 0, 0, 0, 0, 0, 0};
        bool patched = false;
        for (size_t off = 0; off + sizeof(pattern) <= 256 && !patched; off += 4) {
            if (std::memcmp(cp.bytes + off, pattern, sizeof(pattern)) == 0) {
                std::memset(cp.bytes + off + 12, 0, 4);
                patched = true;
            }
        }
        if (!patched) {
            std::fprintf(stderr, "could not locate flash_attn_type in llama_context_params\n");
            return 6;
        }
    }
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
