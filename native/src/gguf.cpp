#include "gguf.h"

#include <cerrno>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace dyn {

MappedFile::MappedFile(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fail(DYN_ERR_IO, "cannot open model file '" + path + "': " + std::strerror(errno));
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        fail(DYN_ERR_IO, "model path '" + path + "' is not a regular file");
    }
    size_ = static_cast<size_t>(st.st_size);
    if (size_ == 0) {
        ::close(fd);
        fail(DYN_ERR_FORMAT, "model file '" + path + "' is empty");
    }
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_SHARED, fd, 0);
    ::close(fd);
    if (p == MAP_FAILED) {
        fail(DYN_ERR_IO, "cannot memory-map '" + path + "': " + std::strerror(errno));
    }
    data_ = static_cast<const uint8_t*>(p);
}

MappedFile::~MappedFile() {
    if (data_ != nullptr) {
        ::munmap(const_cast<uint8_t*>(data_), size_);
    }
}

namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF"
constexpr int kMaxArrayDepth = 4;

class Cursor {
public:
    Cursor(const uint8_t* data, size_t size) : data_(data), size_(size) {}

    size_t pos() const { return pos_; }

    const uint8_t* take(size_t n, const char* what) {
        if (n > size_ - pos_) {
            fail(DYN_ERR_FORMAT, std::string("GGUF file is truncated while reading ") + what +
                                     " at offset " + std::to_string(pos_));
        }
        const uint8_t* p = data_ + pos_;
        pos_ += n;
        return p;
    }

    template <typename T>
    T read(const char* what) {
        T v;
        std::memcpy(&v, take(sizeof(T), what), sizeof(T));
        return v;
    }

    std::string_view string(const char* what) {
        const uint64_t len = read<uint64_t>(what);
        if (len > size_ - pos_) {
            fail(DYN_ERR_FORMAT, std::string("GGUF string length ") + std::to_string(len) + " for " + what +
                                     " runs past the end of the file (truncated or corrupt GGUF)");
        }
        const auto* p = reinterpret_cast<const char*>(take(static_cast<size_t>(len), what));
        return {p, static_cast<size_t>(len)};
    }

private:
    const uint8_t* data_;
    size_t size_;
    size_t pos_ = 0;
};

size_t scalar_size(GgufValueType t) {
    switch (t) {
        case GgufValueType::U8: case GgufValueType::I8: case GgufValueType::BOOL: return 1;
        case GgufValueType::U16: case GgufValueType::I16: return 2;
        case GgufValueType::U32: case GgufValueType::I32: case GgufValueType::F32: return 4;
        case GgufValueType::U64: case GgufValueType::I64: case GgufValueType::F64: return 8;
        default: return 0;
    }
}

void read_scalar(Cursor& c, GgufValue& v, const std::string& key) {
    const char* what = key.c_str();
    switch (v.type) {
        case GgufValueType::U8: v.i = c.read<uint8_t>(what); break;
        case GgufValueType::I8: v.i = c.read<int8_t>(what); break;
        case GgufValueType::U16: v.i = c.read<uint16_t>(what); break;
        case GgufValueType::I16: v.i = c.read<int16_t>(what); break;
        case GgufValueType::U32: v.i = c.read<uint32_t>(what); break;
        case GgufValueType::I32: v.i = c.read<int32_t>(what); break;
        case GgufValueType::U64: v.i = static_cast<int64_t>(c.read<uint64_t>(what)); break;
        case GgufValueType::I64: v.i = c.read<int64_t>(what); break;
        case GgufValueType::BOOL: v.i = c.read<uint8_t>(what) != 0; break;
        case GgufValueType::F32: v.f = c.read<float>(what); break;
        case GgufValueType::F64: v.f = c.read<double>(what); break;
        case GgufValueType::STRING: v.str = c.string(what); break;
        default: fail(DYN_ERR_FORMAT, "GGUF metadata '" + key + "' has an invalid value type");
    }
}

void skip_array(Cursor& c, GgufValue& v, const std::string& key, int depth) {
    if (depth > kMaxArrayDepth) {
        fail(DYN_ERR_FORMAT, "GGUF metadata '" + key + "' nests arrays too deeply");
    }
    const auto elem = static_cast<GgufValueType>(c.read<uint32_t>(key.c_str()));
    const uint64_t n = c.read<uint64_t>(key.c_str());
    v.array_type = elem;
    v.array_len = n;
    if (const size_t es = scalar_size(elem); es != 0) {
        if (n > (SIZE_MAX / es)) {
            fail(DYN_ERR_FORMAT, "GGUF array '" + key + "' is too long");
        }
        v.array_data = c.take(static_cast<size_t>(n) * es, key.c_str());
        return;
    }
    if (elem == GgufValueType::STRING) {
        for (uint64_t k = 0; k < n; k++) {
            c.string(key.c_str());
        }
        return;
    }
    if (elem == GgufValueType::ARRAY) {
        for (uint64_t k = 0; k < n; k++) {
            GgufValue inner;
            skip_array(c, inner, key, depth + 1);
        }
        return;
    }
    fail(DYN_ERR_FORMAT, "GGUF array '" + key + "' has an invalid element type " +
                             std::to_string(static_cast<uint32_t>(elem)));
}

}  // namespace

GgufFile::GgufFile(const std::string& path) : file_(path) {
    Cursor c(file_.data(), file_.size());
    if (c.read<uint32_t>("magic") != kMagic) {
        fail(DYN_ERR_FORMAT, "'" + path + "' is not a GGUF file (bad magic)");
    }
    version_ = c.read<uint32_t>("version");
    if (version_ != 2 && version_ != 3) {
        fail(DYN_ERR_UNSUPPORTED, "GGUF version " + std::to_string(version_) + " is not supported (need 2 or 3)");
    }
    const uint64_t n_tensors = c.read<uint64_t>("tensor count");
    const uint64_t n_kv = c.read<uint64_t>("metadata count");
    // Each entry needs at least a few bytes, so counts beyond the file size are corrupt.
    if (n_tensors > file_.size() / 8 || n_kv > file_.size() / 8) {
        fail(DYN_ERR_FORMAT, "GGUF header counts are larger than the file could hold (truncated or corrupt GGUF)");
    }

    for (uint64_t k = 0; k < n_kv; k++) {
        const std::string key(c.string("metadata key"));
        GgufValue v;
        v.type = static_cast<GgufValueType>(c.read<uint32_t>("metadata type"));
        if (v.type == GgufValueType::ARRAY) {
            skip_array(c, v, key, 0);
        } else {
            read_scalar(c, v, key);
        }
        kv_[key] = v;
    }

    uint64_t alignment = 32;
    if (auto a = get_int("general.alignment")) {
        if (*a <= 0 || *a > 65536 || (*a & (*a - 1)) != 0) {
            fail(DYN_ERR_FORMAT, "general.alignment " + std::to_string(*a) + " is not a power of two");
        }
        alignment = static_cast<uint64_t>(*a);
    }

    std::vector<uint64_t> offsets;
    tensors_.reserve(static_cast<size_t>(n_tensors));
    for (uint64_t k = 0; k < n_tensors; k++) {
        GgufTensor t;
        t.name = std::string(c.string("tensor name"));
        const uint32_t n_dims = c.read<uint32_t>("tensor dims");
        if (n_dims < 1 || n_dims > 4) {
            fail(DYN_ERR_FORMAT, "tensor '" + t.name + "' has " + std::to_string(n_dims) + " dimensions");
        }
        t.n_dims = static_cast<int>(n_dims);
        for (uint32_t d = 0; d < n_dims; d++) {
            const uint64_t ne = c.read<uint64_t>("tensor shape");
            if (ne == 0 || ne > (1ull << 40)) {
                fail(DYN_ERR_FORMAT, "tensor '" + t.name + "' has an invalid dimension " + std::to_string(ne));
            }
            t.ne[d] = static_cast<int64_t>(ne);
        }
        t.type = c.read<uint32_t>("tensor type");
        offsets.push_back(c.read<uint64_t>("tensor offset"));
        if (tensor_index_.count(t.name) != 0) {
            fail(DYN_ERR_FORMAT, "tensor '" + t.name + "' appears twice");
        }
        tensor_index_[t.name] = tensors_.size();
        tensors_.push_back(std::move(t));
    }

    const uint64_t data_start = (c.pos() + alignment - 1) / alignment * alignment;
    if (data_start > file_.size()) {
        fail(DYN_ERR_FORMAT, "GGUF file is truncated before its tensor data");
    }
    const uint64_t data_size = file_.size() - data_start;
    for (size_t k = 0; k < tensors_.size(); k++) {
        GgufTensor& t = tensors_[k];
        const TypeGeometry g = type_geometry(t.type);
        if (g.block_elems == 0) {
            fail(DYN_ERR_UNSUPPORTED, "tensor '" + t.name + "' has unsupported type " + type_name(t.type));
        }
        int64_t n = 1;
        for (int d = 0; d < 4; d++) {
            if (__builtin_mul_overflow(n, t.ne[d], &n)) {
                fail(DYN_ERR_FORMAT, "tensor '" + t.name + "' has more elements than fit in 64 bits");
            }
        }
        if (t.ne[0] % g.block_elems != 0) {
            fail(DYN_ERR_FORMAT, "tensor '" + t.name + "' row length " + std::to_string(t.ne[0]) +
                                     " is not a multiple of the " + type_name(t.type) + " block size");
        }
        uint64_t nbytes = 0;
        if (__builtin_mul_overflow(static_cast<uint64_t>(n / g.block_elems), static_cast<uint64_t>(g.block_bytes), &nbytes)) {
            fail(DYN_ERR_FORMAT, "tensor '" + t.name + "' is larger than 64-bit offsets allow");
        }
        if (offsets[k] % alignment != 0) {
            fail(DYN_ERR_FORMAT, "tensor '" + t.name + "' data offset is not aligned");
        }
        if (offsets[k] > data_size || nbytes > data_size - offsets[k]) {
            fail(DYN_ERR_FORMAT, "tensor '" + t.name + "' data runs past the end of the file (truncated or corrupt GGUF)");
        }
        t.data = file_.data() + data_start + offsets[k];
        t.nbytes = static_cast<size_t>(nbytes);
    }
}

const GgufValue* GgufFile::find(std::string_view key) const {
    auto it = kv_.find(std::string(key));
    return it == kv_.end() ? nullptr : &it->second;
}

const GgufTensor* GgufFile::tensor(std::string_view name) const {
    auto it = tensor_index_.find(std::string(name));
    return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

std::optional<int64_t> GgufFile::get_int(std::string_view key) const {
    const GgufValue* v = find(key);
    if (v == nullptr) {
        return std::nullopt;
    }
    if (scalar_size(v->type) == 0 || v->type == GgufValueType::F32 || v->type == GgufValueType::F64) {
        fail(DYN_ERR_FORMAT, "metadata '" + std::string(key) + "' is not an integer");
    }
    return v->i;
}

std::optional<double> GgufFile::get_float(std::string_view key) const {
    const GgufValue* v = find(key);
    if (v == nullptr) {
        return std::nullopt;
    }
    if (v->type == GgufValueType::F32 || v->type == GgufValueType::F64) {
        return v->f;
    }
    if (scalar_size(v->type) != 0 && v->type != GgufValueType::BOOL) {
        return static_cast<double>(v->i);
    }
    fail(DYN_ERR_FORMAT, "metadata '" + std::string(key) + "' is not a number");
}

std::optional<std::string_view> GgufFile::get_string(std::string_view key) const {
    const GgufValue* v = find(key);
    if (v == nullptr) {
        return std::nullopt;
    }
    if (v->type != GgufValueType::STRING) {
        fail(DYN_ERR_FORMAT, "metadata '" + std::string(key) + "' is not a string");
    }
    return v->str;
}

}  // namespace dyn
