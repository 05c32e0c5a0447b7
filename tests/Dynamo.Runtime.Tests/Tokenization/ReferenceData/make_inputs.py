# Generates the seeded random inputs of llamacpp-reference.json (step 1 of 2; step 2 is make_reference.mjs).
# Usage: python3 make_inputs.py  -> stress.json
import json, random
random.seed(42)
pool = (list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") * 3 + list("0123456789") * 3 + list(" ") * 12 +
        list("\t\n\r\v\f") + list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~") * 2 + ["'s", "'S", "'t", "'re", "'RE", "'ve", "'m", "'ll", "'LL", "'d", "'D"] * 2 +
        list("我想在苹果公司工作東京はキャッシュ한국어") + ["🚀", "😁", "🦙", "✅", "🌫️", "👍🏽", "😶‍🌫️", "🇺🇸"] +
        ["e\u0301", "\u0300", "\u0651", "ع", "ر", "ب", "ि", "न", "ह", "ก", "า", "ำ", "ក", "ា", "ន", "់"] +
        ["\u00a0", "\u3000", "\u2009", "\u0085", "\u2028", "\u200b", "\ufeff", "\u0001", "\u001f", "\u007f"] +
        ["٣", "３", "²", "Ⅻ", "½", "\ue000", "\U0001F9FF", "\U00020000", "ſ", "K", "İ", "ß", "Ω", "µ"] +
        ["<s>", "</s>", "<unk>", "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|eot_id|>", "<|begin_of_text|>", "<|start_header_id|>", "<|fim_prefix|>"] +
        ["    ", "\n\n", "\r\n", " \n ", "...", "--", "==", "//", "/*", "*/", "::", "->", "=>", "#include", "def ", "return"])
words = ["the", "The", "quick", "model", "Hello", "world", "don't", "it's", "I'm", "we'll", "they've", "1234567", "3.14159", "2024-01-01",
         "función", "naïve", "Ünïcödé", "нещо", "Български", "σχέδιο", "שלום", "مرحبا", "नमस्ते", "สวัสดี"]
out = []
for n in range(400):
    k = random.choice([1, 2, 3, 5, 8, 13, 30, 60])
    parts = [random.choice(pool) if random.random() < 0.6 else random.choice(words) + random.choice([" ", "", ",", ". ", "\n"]) for _ in range(k)]
    out.append("".join(parts))
json.dump(out, open("stress.json", "w"), ensure_ascii=True)
print(len(out))
