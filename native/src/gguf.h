// GGUF v2/v3 reader over a read-only memory map. Every offset and length is
// checked against the file size, so corrupt or truncated files become errors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common.h"

namespace dyn {

class MappedFile {
public:
    explicit MappedFile(const std::string& path);
    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    const uint8_t* data() const { return data_; }
    size_t size() const { return size_; }

private:
    const uint8_t* data_ = nullptr;
    size_t size_ = 0;
};

enum class GgufValueType : uint32_t {
    U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, BOOL = 7,
    STRING = 8, ARRAY = 9, U64 = 10, I64 = 11, F64 = 12,
};

struct GgufValue {
    GgufValueType type = GgufValueType::U8;
    int64_t i = 0;          // integer and bool values
    double f = 0;           // float values
    std::string_view str;   // string values (points into the map)
    GgufValueType array_type = GgufValueType::U8;
    uint64_t array_len = 0;
    const uint8_t* array_data = nullptr;  // first element; fixed-size element arrays only
};

struct GgufTensor {
    std::string name;
    int n_dims = 0;
    int64_t ne[4] = {1, 1, 1, 1};  // ne[0] is the innermost (contiguous) dimension
    uint32_t type = 0;
    const uint8_t* data = nullptr;
    size_t nbytes = 0;

    int64_t elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
};

class GgufFile {
public:
    explicit GgufFile(const std::string& path);

    uint32_t version() const { return version_; }
    const GgufValue* find(std::string_view key) const;
    const GgufTensor* tensor(std::string_view name) const;
    const std::vector<GgufTensor>& tensors() const { return tensors_; }

    std::optional<int64_t> get_int(std::string_view key) const;
    std::optional<double> get_float(std::string_view key) const;
    std::optional<std::string_view> get_string(std::string_view key) const;

private:
    MappedFile file_;
    uint32_t version_ = 0;
    std::unordered_map<std::string, GgufValue> kv_;
    std::vector<GgufTensor> tensors_;
    std::unordered_map<std::string, size_t> tensor_index_;
};

}  // namespace dyn
