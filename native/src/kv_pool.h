// The paged KV cache: num_blocks fixed-size blocks in one engine-owned arena.
// A block is contiguous (every layer's K then V for block_size slots), so
// export, import and copy-on-write are single memcpys.
#pragma once

#include <cstddef>
#include <cstdint>

#include "model.h"

namespace dyn {

class KvPool {
public:
    KvPool(const Model& model, int num_blocks, int block_size, dyn_kv_type type);
    ~KvPool();
    KvPool(const KvPool&) = delete;
    KvPool& operator=(const KvPool&) = delete;

    const Model& model() const { return model_; }
    int num_blocks() const { return num_blocks_; }
    int block_size() const { return block_size_; }
    dyn_kv_type type() const { return type_; }
    size_t elem_bytes() const { return type_ == DYN_KV_F16 ? 2 : 4; }
    size_t block_bytes() const { return block_bytes_; }

    // K of `layer` in `block`: block_size slots of kv_dim elements.
    uint8_t* k(int block, int layer) const { return base(block) + static_cast<size_t>(layer) * 2 * plane_bytes_; }
    uint8_t* v(int block, int layer) const { return k(block, layer) + plane_bytes_; }

    void export_block(int block, void* dst, int64_t dst_len) const;
    void import_block(int block, const void* src, int64_t src_len);
    void copy_block(int src, int dst);

private:
    uint8_t* base(int block) const { return data_ + static_cast<size_t>(block) * block_bytes_; }
    void check_block(int block, const char* what) const;

    const Model& model_;
    int num_blocks_;
    int block_size_;
    dyn_kv_type type_;
    size_t plane_bytes_ = 0;  // one layer's K (or V) in one block
    size_t block_bytes_ = 0;
    size_t total_bytes_ = 0;
    uint8_t* data_ = nullptr;
};

}  // namespace dyn
