using System.Text;
using Dynamo.Runtime.Gguf;

namespace Dynamo.Runtime.Tokenization;

internal sealed partial class Vocabulary
{
    private static readonly string[] s_eotTexts =
        ["<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]", "<｜end▁of▁sentence｜>", "<end_of_utterance>"];

    private static readonly string[] s_fimPreTexts = ["<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>", "<|code_prefix|>", "<|prefix|>"];
    private static readonly string[] s_fimSufTexts = ["<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>", "<|code_suffix|>", "<|suffix|>"];
    private static readonly string[] s_fimMidTexts = ["<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>", "<|code_middle|>", "<|middle|>"];
    private static readonly string[] s_fimPadTexts = ["<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"];
    private static readonly string[] s_fimRepTexts = ["<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"];
    private static readonly string[] s_fimSepTexts = ["<|file_sep|>"];

    private static readonly string[] s_eogTexts =
    [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>", "<end_of_turn>", "<|endoftext|>", "</s>",
        "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
        "<｜end▁of▁sentence｜>", "[e~[",
    ];

    private void ConfigureSpecials(GgufReader gguf, TokenizerModel model, BpeVocabularyOptions bpe)
    {
        int? bos, eos, unk;
        if (model == TokenizerModel.Spm)
        {
            (bos, eos, unk) = (1, 2, 0);
            AddSpacePrefix = true;
            AddBos = true;
        }
        else
        {
            (bos, eos, unk) = (bpe.NoDefaultBos ? null : 11, 11, null);
            AddBos = bpe.AddBos;
        }

        if (gguf.TryGetBool(Prefix + "add_space_prefix", out var addSpace))
        {
            AddSpacePrefix = addSpace;
        }

        int? eot = null, eom = null, sep = null, pad = null, mask = null;
        int? fimPre = null, fimSuf = null, fimMid = null, fimPad = null, fimRep = null, fimSep = null;
        Override(gguf, "bos_token_id", ref bos);
        Override(gguf, "eos_token_id", ref eos);
        Override(gguf, "eot_token_id", ref eot);
        Override(gguf, "eom_token_id", ref eom);
        Override(gguf, "unknown_token_id", ref unk);
        Override(gguf, "seperator_token_id", ref sep); // sic: the key is spelled this way in GGUF
        Override(gguf, "padding_token_id", ref pad);
        Override(gguf, "mask_token_id", ref mask);
        Override(gguf, "fim_pre_token_id", ref fimPre);
        Override(gguf, "fim_suf_token_id", ref fimSuf);
        Override(gguf, "fim_mid_token_id", ref fimMid);
        Override(gguf, "fim_pad_token_id", ref fimPad);
        Override(gguf, "fim_rep_token_id", ref fimRep);
        Override(gguf, "fim_sep_token_id", ref fimSep);
        Override(gguf, "prefix_token_id", ref fimPre);
        Override(gguf, "suffix_token_id", ref fimSuf);
        Override(gguf, "middle_token_id", ref fimMid);

        if (gguf.TryGetBool(Prefix + "add_bos_token", out var addBos))
        {
            AddBos = addBos;
        }

        if (gguf.TryGetBool(Prefix + "add_eos_token", out var addEos))
        {
            AddEos = addEos;
        }

        if (AddBos && bos is null)
        {
            throw new InvalidDataException("tokenizer.ggml.add_bos_token is true, but tokenizer.ggml.bos_token_id is not set.");
        }

        if (AddEos && eos is null)
        {
            throw new InvalidDataException("tokenizer.ggml.add_eos_token is true, but tokenizer.ggml.eos_token_id is not set.");
        }

        // Some converters leave these ids out; llama.cpp finds them by text and forces them to be control tokens.
        eot ??= DetectByText(s_eotTexts);
        eom ??= DetectByText(["<|eom_id|>"]);
        fimPre ??= DetectByText(s_fimPreTexts);
        fimSuf ??= DetectByText(s_fimSufTexts);
        fimMid ??= DetectByText(s_fimMidTexts);
        fimPad ??= DetectByText(s_fimPadTexts);
        fimRep ??= DetectByText(s_fimRepTexts);
        fimSep ??= DetectByText(s_fimSepTexts);

        for (var id = 0; id < Size; id++)
        {
            if ((Attributes[id] & TokenAttributes.Control) != 0 && Text(id).IndexOf("unused"u8) >= 0)
            {
                Attributes[id] |= TokenAttributes.Unused;
            }
        }

        BuildEndOfGeneration(eos, eot, eom, fimPad, fimRep, fimSep);
        SpecialTokensByLength = BuildSpecialCache();
        ApplyModelSpecificAttributes(gguf);

        Special = new SpecialTokenIds(bos, eos, eot, eom, unk, sep, pad, mask, Newline: null, fimPre, fimSuf, fimMid, fimPad, fimRep, fimSep);
    }

    public void SetNewline(int? id) => Special = Special with { Newline = id };

    private void Override(GgufReader gguf, string key, ref int? id)
    {
        if (id is { } current && current >= Size)
        {
            id = null;
        }

        if (gguf.TryGetValue(Prefix + key, out var value) && value.AsUInt64() is var newId && newId < (ulong)Size)
        {
            id = (int)newId;
        }
    }

    // llama.cpp walks an unordered_map, so which of several candidates wins is unspecified there; the lowest id
    // is taken here so the choice is at least stable.
    private int? DetectByText(string[] texts)
    {
        int? found = null;
        foreach (var text in texts)
        {
            var id = Find(Encoding.UTF8.GetBytes(text));
            if (id >= 0 && (found is null || id < found))
            {
                found = id;
            }
        }

        if (found is { } f)
        {
            Attributes[f] |= TokenAttributes.Control;
        }

        return found;
    }

    private void BuildEndOfGeneration(int? eos, int? eot, int? eom, int? fimPad, int? fimRep, int? fimSep)
    {
        foreach (var id in new[] { fimPad, fimRep, fimSep })
        {
            if (id is { } v)
            {
                EndOfGeneration.Add(v);
            }
        }

        foreach (var text in s_eogTexts)
        {
            var id = Find(Encoding.UTF8.GetBytes(text));
            if (id >= 0)
            {
                EndOfGeneration.Add(id);
                Attributes[id] |= TokenAttributes.Control;
            }
        }

        // gpt-oss: these structural tokens are always rendered.
        foreach (var text in (string[])["<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"])
        {
            var id = Find(Encoding.UTF8.GetBytes(text));
            if (id >= 0)
            {
                Attributes[id] = TokenAttributes.UserDefined;
            }
        }

        foreach (var id in new[] { eos, eot, eom })
        {
            if (id is { } v)
            {
                EndOfGeneration.Add(v);
            }
        }

        // o200k_harmony / solar-open: "<|end|>" ends a message, not the generation.
        var end = Find("<|end|>"u8);
        var hasCall = Has("<|call|>"u8) || Has("<|calls|>"u8);
        if (end >= 0 && EndOfGeneration.Contains(end) && hasCall && (Has("<|return|>"u8) || Has("<|flush|>"u8)))
        {
            EndOfGeneration.Remove(end);
            Attributes[end] = TokenAttributes.UserDefined;
        }

        var closing = Find("</s>"u8);
        if (closing >= 0 && EndOfGeneration.Contains(closing) && Has("<|tool_response>"u8))
        {
            EndOfGeneration.Remove(closing);
            Attributes[closing] = TokenAttributes.Normal;
        }

        bool Has(ReadOnlySpan<byte> text) => Find(text) is var id && id >= 0 && EndOfGeneration.Contains(id);
    }

    private int[] BuildSpecialCache()
    {
        const TokenAttributes special = TokenAttributes.Control | TokenAttributes.UserDefined | TokenAttributes.Unknown;
        var ids = new List<int>();
        for (var id = 0; id < Size; id++)
        {
            if ((Attributes[id] & special) != 0)
            {
                ids.Add(id);
            }
        }

        // Stable: equal lengths keep id order (llama.cpp's std::sort leaves that order unspecified).
        return [.. ids.OrderByDescending(id => Text(id).Length)];
    }

    private void ApplyModelSpecificAttributes(GgufReader gguf)
    {
        gguf.TryGetString("general.name", out var name);
        name = name?.ToLowerInvariant() ?? string.Empty;
        if (!name.Contains("phi-3", StringComparison.Ordinal) && !name.Contains("phi3", StringComparison.Ordinal))
        {
            return;
        }

        foreach (var id in SpecialTokensByLength)
        {
            Attributes[id] |= TokenAttributes.RStrip;
        }

        SetStrip("</s>"u8, true);
        SetStrip("<unk>"u8, false);
        SetStrip("<s>"u8, false);
        SetStrip("<|endoftext|>"u8, false);

        void SetStrip(ReadOnlySpan<byte> text, bool on)
        {
            var id = Find(text);
            if (id >= 0)
            {
                Attributes[id] = on ? Attributes[id] | TokenAttributes.RStrip : Attributes[id] & ~TokenAttributes.RStrip;
            }
        }
    }
}
