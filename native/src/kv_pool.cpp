#include "kv_pool.h"

#include <cerrno>
#include <sys/mman.h>

namespace dyn {

KvPool::KvPool(const Model& model, int num_blocks, int block_size, dyn_kv_type type)
    : model_(model), num_blocks_(num_blocks), block_size_(block_size), type_(type) {
    if (num_blocks <= 0) {
        fail(DYN_ERR_INVALID_ARGUMENT, "num_blocks must be positive, got " + std::to_string(num_blocks));
    }
    if (block_size <= 0 || block_size > 4096) {
        fail(DYN_ERR_INVALID_ARGUMENT, "block_size must be in 1..4096, got " + std::to_string(block_size));
    }
    if (type != DYN_KV_F32 && type != DYN_KV_F16) {
        fail(DYN_ERR_INVALID_ARGUMENT, "kv_type must be DYN_KV_F32 (0) or DYN_KV_F16 (1)");
    }
    const HParams& hp = model.hp();
    plane_bytes_ = static_cast<size_t>(block_size) * static_cast<size_t>(hp.kv_dim()) * elem_bytes();
    block_bytes_ = plane_bytes_ * 2 * static_cast<size_t>(hp.n_layer);
    if (block_bytes_ != 0 && static_cast<size_t>(num_blocks) > (SIZE_MAX / 2) / block_bytes_) {
        fail(DYN_ERR_OUT_OF_MEMORY, "KV pool size overflows");
    }
    total_bytes_ = block_bytes_ * static_cast<size_t>(num_blocks);
    // Anonymous pages are zeroed and committed lazily, so a large pool costs
    // memory only for blocks that are written.
    void* p = ::mmap(nullptr, total_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        fail(DYN_ERR_OUT_OF_MEMORY, "cannot allocate a KV pool of " + std::to_string(total_bytes_) + " bytes: " +
                                        std::strerror(errno));
    }
    data_ = static_cast<uint8_t*>(p);
}

KvPool::~KvPool() {
    if (data_ != nullptr) {
        ::munmap(data_, total_bytes_);
    }
}

void KvPool::check_block(int block, const char* what) const {
    if (block < 0 || block >= num_blocks_) {
        fail(DYN_ERR_INVALID_ARGUMENT, std::string(what) + " block id " + std::to_string(block) +
                                           " is outside the pool of " + std::to_string(num_blocks_) + " blocks");
    }
}

void KvPool::export_block(int block, void* dst, int64_t dst_len) const {
    check_block(block, "export");
    if (dst == nullptr || dst_len < static_cast<int64_t>(block_bytes_)) {
        fail(DYN_ERR_INVALID_ARGUMENT, "export buffer needs " + std::to_string(block_bytes_) + " bytes, got " +
                                           std::to_string(dst == nullptr ? 0 : dst_len));
    }
    std::memcpy(dst, base(block), block_bytes_);
}

void KvPool::import_block(int block, const void* src, int64_t src_len) {
    check_block(block, "import");
    if (src == nullptr || src_len != static_cast<int64_t>(block_bytes_)) {
        fail(DYN_ERR_INVALID_ARGUMENT, "import buffer must be exactly " + std::to_string(block_bytes_) +
                                           " bytes, got " + std::to_string(src == nullptr ? 0 : src_len));
    }
    std::memcpy(base(block), src, block_bytes_);
}

void KvPool::copy_block(int src, int dst) {
    check_block(src, "source");
    check_block(dst, "destination");
    if (src != dst) {
        std::memcpy(base(dst), base(src), block_bytes_);
    }
}

}  // namespace dyn
