// Step 2 of 2: tokenizes stress.json with llama.cpp itself and writes llamacpp-reference.json (first 250 inputs).
// Usage (needs network access to npm once):
//   npm install node-llama-cpp@3 && python3 make_inputs.py && node make_reference.mjs /path/to/shared/fixtures/tokenizers
import {getLlama} from "node-llama-cpp";
import fs from "fs";

const fixtures = process.argv[2];
const inputs = JSON.parse(fs.readFileSync("stress.json", "utf8")).slice(0, 250);
const llama = await getLlama({gpu: false, build: "never", logLevel: "error"});
const out = {
  source: "llama.cpp (node-llama-cpp 3.22.1 prebuilt, vocab-only models): tokenize(text, add_special=false, parse_special=false|true) and detokenize(plain ids); inputs are seeded random strings",
  inputs,
};
for (const name of ["llama-spm", "gpt-2", "llama-bpe", "qwen2"]) {
  const model = await llama.loadModel({modelPath: `${fixtures}/ggml-vocab-${name}.gguf`, vocabOnly: true});
  const plain = inputs.map(t => Array.from(model.tokenize(t, false)));
  out[name] = {
    plain: plain.map(ids => ids.join(" ")),
    special: inputs.map(t => Array.from(model.tokenize(t, true)).join(" ")),
    detokenized: plain.map(ids => model.detokenize(ids)),
  };
  await model.dispose();
}
fs.writeFileSync("llamacpp-reference.json", JSON.stringify(out));
