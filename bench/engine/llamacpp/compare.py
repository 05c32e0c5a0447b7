"""Compares the Dynamo engine with llama.cpp on the same GGUF files.

For each model: greedy continuations from both engines and the largest absolute logit
difference after the prompt. Optionally quantizes an F32 model with llama.cpp first, so the
engine's dequantization of llama.cpp-written Q4_0/Q4_K/Q6_K/... tensors is checked too.

usage: python3 compare.py ENGINE_LIB MODEL.gguf [MODEL.gguf ...] [--quantize F32.gguf FTYPE NAME ...]
"""
import ctypes, os, struct, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
HARNESS = os.path.join(HERE, "harness")
PROMPT = [1, 450, 4996, 17354, 1701, 432, 17204, 975, 278, 17366, 11203, 29889]
# Greedy tokens compared per model: F32 and F16 files must agree over all of them.
GREEDY = 64


class Seq(ctypes.Structure):
    _fields_ = [("tokens", ctypes.POINTER(ctypes.c_int32)), ("table", ctypes.POINTER(ctypes.c_int32)),
                ("n", ctypes.c_int32), ("start", ctypes.c_int32), ("nb", ctypes.c_int32), ("want", ctypes.c_int32)]


class Batch(ctypes.Structure):
    _fields_ = [("seqs", ctypes.POINTER(Seq)), ("logits", ctypes.POINTER(ctypes.c_float)), ("len", ctypes.c_int64),
                ("n", ctypes.c_int32), ("reserved", ctypes.c_int32)]


class Dynamo:
    def __init__(self, lib, path, vocab=32000):
        self.L = ctypes.CDLL(lib)
        self.L.dyn_last_error.restype = ctypes.c_char_p
        self.m, self.p, self.c = ctypes.c_void_p(), ctypes.c_void_p(), ctypes.c_void_p()
        self.check(self.L.dyn_model_load(path.encode(), None, ctypes.byref(self.m)))
        self.check(self.L.dyn_kv_pool_create(self.m, 64, 16, 0, ctypes.byref(self.p)))
        self.check(self.L.dyn_context_create(self.m, self.p, None, ctypes.byref(self.c)))
        self.vocab = vocab
        self.table = (ctypes.c_int32 * 64)(*range(64))

    def check(self, status):
        if status != 0:
            raise RuntimeError(self.L.dyn_last_error().decode())

    def step(self, tokens, start):
        arr = (ctypes.c_int32 * len(tokens))(*tokens)
        logits = (ctypes.c_float * self.vocab)()
        seq = Seq(arr, self.table, len(tokens), start, 64, 1)
        self.check(self.L.dyn_step(self.c, ctypes.byref(Batch(ctypes.pointer(seq), logits, self.vocab, 1, 0))))
        return list(logits)

    def greedy(self, prompt, n):
        logits, out = self.step(prompt, 0), []
        for i in range(n):
            out.append(max(range(self.vocab), key=logits.__getitem__))
            logits = self.step([out[-1]], len(prompt) + i)
        return out


def llama_cpp(*args):
    r = subprocess.run([HARNESS, *map(str, args)], cwd=HERE, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"harness {args[0]} failed ({r.returncode}): {r.stderr[-500:]}")
    return r.stdout


def compare(lib, path, name):
    ours = Dynamo(lib, path)
    with tempfile.NamedTemporaryFile(suffix=".f32") as f:
        llama_cpp("logits", path, f.name, *PROMPT)
        theirs = list(struct.unpack(f"{ours.vocab}f", f.read()))
    mine = ours.step(PROMPT, 0)
    diff = max(abs(a - b) for a, b in zip(mine, theirs))
    spread = max(theirs) - min(theirs)
    g_ours = ours.greedy(PROMPT, GREEDY)
    g_theirs = [int(t) for t in llama_cpp("greedy", path, GREEDY, *PROMPT).split()]
    agree = next((i for i, (a, b) in enumerate(zip(g_ours, g_theirs)) if a != b), GREEDY)
    print(f"{name:<28} {diff:>12.5f} {spread:>10.2f} {agree:>10}/{GREEDY}")


def main(argv):
    lib, rest = argv[0], argv[1:]
    print(f"{'model':<28} {'max |dlogit|':>12} {'spread':>10} {'greedy agree':>13}")
    i = 0
    while i < len(rest):
        if rest[i] == "--quantize":
            src, ftype, name = rest[i + 1], rest[i + 2], rest[i + 3]
            out = os.path.join(tempfile.gettempdir(), f"dynamo-cmp-{name}.gguf")
            llama_cpp("quantize", src, out, ftype)
            compare(lib, out, name)
            i += 4
        else:
            compare(lib, rest[i], os.path.basename(rest[i]))
            i += 1


if __name__ == "__main__":
    main(sys.argv[1:])
