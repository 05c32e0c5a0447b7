namespace Dynamo.Runtime.Guided;

internal enum FrameKind : byte
{
    /// <summary>Bottom of every stack; phase 1 once the top-level value is complete.</summary>
    Root,

    /// <summary>A value of the frame's schema is due: whitespace, then its first byte picks the concrete frame.</summary>
    Value,
    Object,
    Array,
    String,
    Number,
    Literal,
}

/// <summary>One level of a matcher stack. Small and blittable: the mask walk copies stacks once per trie edge.</summary>
internal struct Frame
{
    public int Node;
    public FrameKind Kind;
    public byte Phase;

    /// <summary>Whitespace bytes in the current run (capped, so a model cannot pad forever).</summary>
    public byte Ws;

    /// <summary>String lexer: 0 plain, 1 after a backslash, 2 in \uXXXX, 3 inside a UTF-8 sequence.</summary>
    public byte Lex;
    public byte LexLeft;
    public byte Lo;
    public byte Hi;

    /// <summary>String: code points so far; array: items so far; object: next property index; literal: bytes matched.</summary>
    public int Count;

    /// <summary>Object: bytes of the key matched so far.</summary>
    public int KeyPos;

    /// <summary>Object: the schema of the value after the current key.</summary>
    public int Target;

    /// <summary>Literal: literals still matching; object key: property names still matching.</summary>
    public ulong Candidates;

    public readonly bool SameAs(in Frame o) =>
        Node == o.Node && Kind == o.Kind && Phase == o.Phase && Ws == o.Ws && Lex == o.Lex && LexLeft == o.LexLeft
        && Lo == o.Lo && Hi == o.Hi && Count == o.Count && KeyPos == o.KeyPos && Target == o.Target && Candidates == o.Candidates;
}

/// <summary>
/// The matcher's configuration: one or more stacks (more than one only while an anyOf is undecided), stored back to
/// back in <see cref="Frames"/>; stack k ends at <c>Ends[k]</c>.
/// </summary>
internal sealed class MatcherState
{
    public Frame[] Frames = new Frame[16];
    public int[] Ends = new int[4];
    public int StackCount;

    public int Length => StackCount == 0 ? 0 : Ends[StackCount - 1];

    public int StackStart(int k) => k == 0 ? 0 : Ends[k - 1];

    public void EnsureFrames(int count)
    {
        if (Frames.Length < count)
        {
            Array.Resize(ref Frames, Math.Max(count, Frames.Length * 2));
        }
    }

    public void CopyFrom(MatcherState other)
    {
        EnsureFrames(other.Length);
        Array.Copy(other.Frames, Frames, other.Length);
        if (Ends.Length < other.StackCount)
        {
            Ends = new int[other.Ends.Length];
        }

        Array.Copy(other.Ends, Ends, other.StackCount);
        StackCount = other.StackCount;
    }

    public void AddStack(int end)
    {
        if (StackCount == Ends.Length)
        {
            Array.Resize(ref Ends, Ends.Length * 2);
        }

        Ends[StackCount++] = end;
    }
}
