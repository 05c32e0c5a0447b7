using System.Buffers;

namespace Dynamo.Runtime.Guided;

/// <summary>
/// The byte-level pushdown automaton behind <see cref="JsonGrammarMatcher"/> and the token mask walk: feeds one byte
/// to every stack of a state and writes the surviving stacks to another state (the source is never modified, so the
/// trie walk keeps one state per depth and needs no undo).
/// </summary>
internal static partial class JsonMatcherCore
{
    /// <summary>Longest whitespace run between tokens; JSON allows any, a sampling model would use that to never finish.</summary>
    public const int MaxWhitespaceRun = 16;

    /// <summary>Digits per number part: keeps numbers within double/long range and a model from emitting digits forever.</summary>
    public const int MaxIntegerDigits = 18;
    public const int MaxFractionDigits = 16;
    public const int MaxExponentDigits = 3;

    public const int MaxDepth = 64;

    /// <summary>Undecided anyOf branches kept at once; identical branches are merged, so only pathological schemas get here.</summary>
    public const int MaxStacks = 64;

    private const int MaxForkDepth = 16;

    private enum Step { Fail, Consumed, Retry }

    public static void Initialize(MatcherState state, int root)
    {
        state.StackCount = 0;
        state.EnsureFrames(2);
        state.Frames[0] = new Frame { Kind = FrameKind.Root, Node = -1 };
        state.Frames[1] = new Frame { Kind = FrameKind.Value, Node = root };
        state.AddStack(2);
    }

    public static bool Advance(SchemaNode[] nodes, MatcherState source, byte b, MatcherState target)
    {
        target.StackCount = 0;
        for (var k = 0; k < source.StackCount; k++)
        {
            var start = source.StackStart(k);
            var length = source.Ends[k] - start;
            var at = target.Length;
            target.EnsureFrames(at + length + 2);
            Array.Copy(source.Frames, start, target.Frames, at, length);
            Feed(nodes, target, at, at + length, b, 0);
        }

        return target.StackCount > 0;
    }

    /// <summary>A value is complete and nothing but its end can follow (EOS may end the text now).</summary>
    public static bool CanFinish(SchemaNode[] nodes, MatcherState state)
    {
        for (var k = 0; k < state.StackCount; k++)
        {
            var start = state.StackStart(k);
            var end = state.Ends[k];
            ref var top = ref state.Frames[end - 1];
            if (top.Kind == FrameKind.Root && top.Phase == 1)
            {
                return true;
            }

            if (end - start == 2
                && ((top.Kind == FrameKind.Number && top.Phase is 2 or 3 or 5 or 8)
                    || (top.Kind == FrameKind.Literal && HasCompleteLiteral(nodes[top.Node], top))))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Every stack has finished its value: no byte can follow.</summary>
    public static bool IsDone(MatcherState state)
    {
        for (var k = 0; k < state.StackCount; k++)
        {
            ref var top = ref state.Frames[state.Ends[k] - 1];
            if (top.Kind != FrameKind.Root || top.Phase != 1)
            {
                return false;
            }
        }

        return state.StackCount > 0;
    }

    /// <summary>Runs the working stack [s, e) of <paramref name="t"/> on one byte; on success commits it as a new stack.</summary>
    private static bool Feed(SchemaNode[] nodes, MatcherState t, int s, int e, byte b, int forkDepth)
    {
        while (true)
        {
            t.EnsureFrames(e + 2);
            var frames = t.Frames;
            ref var top = ref frames[e - 1];
            Step step;
            switch (top.Kind)
            {
                case FrameKind.Root:
                    return false;
                case FrameKind.Value:
                    if (!IsWhitespace(b) && nodes[top.Node].Kind == SchemaKind.Union)
                    {
                        return Fork(nodes, t, s, e, b, forkDepth);
                    }

                    step = StepValue(nodes, ref top, b);
                    break;
                case FrameKind.String:
                    step = StepString(nodes[top.Node], ref top, b, frames, ref e);
                    break;
                case FrameKind.Number:
                    step = StepNumber(nodes[top.Node].Kind == SchemaKind.Integer, ref top, b, frames, ref e);
                    break;
                case FrameKind.Literal:
                    step = StepLiteral(nodes[top.Node], ref top, b, frames, ref e);
                    break;
                case FrameKind.Object:
                    step = StepObject(nodes[top.Node], ref top, b, frames, ref e, s);
                    break;
                default:
                    step = StepArray(nodes[top.Node], ref top, b, frames, ref e, s);
                    break;
            }

            if (step == Step.Fail)
            {
                return false;
            }

            if (step == Step.Consumed)
            {
                return Commit(t, s, e);
            }
        }
    }

    private static bool Fork(SchemaNode[] nodes, MatcherState t, int s, int e, byte b, int forkDepth)
    {
        if (forkDepth >= MaxForkDepth)
        {
            return false;
        }

        var length = e - s;
        var saved = ArrayPool<Frame>.Shared.Rent(length);
        try
        {
            Array.Copy(t.Frames, s, saved, 0, length);
            var alternatives = nodes[saved[length - 1].Node].Alternatives;
            var any = false;
            foreach (var alternative in alternatives)
            {
                var at = t.Length;
                t.EnsureFrames(at + length + 2);
                Array.Copy(saved, 0, t.Frames, at, length);
                t.Frames[at + length - 1].Node = alternative;
                any |= Feed(nodes, t, at, at + length, b, forkDepth + 1);
            }

            return any;
        }
        finally
        {
            ArrayPool<Frame>.Shared.Return(saved);
        }
    }

    private static bool Commit(MatcherState t, int s, int e)
    {
        var length = e - s;
        for (var k = 0; k < t.StackCount; k++)
        {
            var start = t.StackStart(k);
            if (t.Ends[k] - start == length && t.Frames.AsSpan(start, length).SequenceEqual(t.Frames.AsSpan(s, length), FrameComparer.Instance))
            {
                return true;
            }
        }

        if (t.StackCount >= MaxStacks)
        {
            // Dropping a branch narrows what is allowed but never allows anything invalid.
            return true;
        }

        t.AddStack(e);
        return true;
    }

    private static Step StepValue(SchemaNode[] nodes, ref Frame top, byte b)
    {
        if (IsWhitespace(b))
        {
            return Whitespace(ref top);
        }

        var node = nodes[top.Node];
        var kind = node.Kind;
        var nodeId = top.Node;
        if (kind == SchemaKind.Any)
        {
            (kind, nodeId) = b switch
            {
                (byte)'{' => (SchemaKind.Object, JsonSchemaGrammar.AnyObjectNode),
                (byte)'[' => (SchemaKind.Array, JsonSchemaGrammar.AnyArrayNode),
                (byte)'"' => (SchemaKind.String, JsonSchemaGrammar.AnyStringNode),
                (byte)'-' or (>= (byte)'0' and <= (byte)'9') => (SchemaKind.Number, JsonSchemaGrammar.AnyNumberNode),
                (byte)'t' or (byte)'f' or (byte)'n' => (SchemaKind.Literal, JsonSchemaGrammar.AnyKeywordNode),
                _ => (SchemaKind.Any, -1),
            };
            node = nodeId >= 0 ? nodes[nodeId] : node;
        }

        switch (kind)
        {
            case SchemaKind.Object when b == '{':
                top = new Frame { Kind = FrameKind.Object, Node = nodeId };
                return Step.Consumed;
            case SchemaKind.Array when b == '[':
                top = new Frame { Kind = FrameKind.Array, Node = nodeId };
                return Step.Consumed;
            case SchemaKind.String when b == '"':
                top = new Frame { Kind = FrameKind.String, Node = nodeId };
                return Step.Consumed;
            case SchemaKind.Number or SchemaKind.Integer when b == '-' || IsDigit(b):
                top = new Frame { Kind = FrameKind.Number, Node = nodeId };
                return Step.Retry;
            case SchemaKind.Literal:
                top = new Frame
                {
                    Kind = FrameKind.Literal,
                    Node = nodeId,
                    Candidates = node.Literals.Length == 64 ? ulong.MaxValue : (1UL << node.Literals.Length) - 1,
                };
                return Step.Retry;
            default:
                return Step.Fail;
        }
    }

    internal static bool IsWhitespace(byte b) => b is (byte)' ' or (byte)'\n' or (byte)'\t' or (byte)'\r';

    private static bool IsDigit(byte b) => (uint)(b - '0') <= 9;

    private static Step Whitespace(ref Frame f)
    {
        if (f.Ws >= MaxWhitespaceRun)
        {
            return Step.Fail;
        }

        f.Ws++;
        return Step.Consumed;
    }

    /// <summary>The top value is complete: drop its frame and tell the parent.</summary>
    private static Step Pop(Frame[] frames, ref int e)
    {
        e--;
        ref var parent = ref frames[e - 1];
        parent.Ws = 0;
        switch (parent.Kind)
        {
            case FrameKind.Root:
                parent.Phase = 1;
                break;
            case FrameKind.Array:
                parent.Count++;
                break;
        }

        return Step.Consumed;
    }

    private static Step Push(Frame[] frames, ref int e, int s, int node)
    {
        if (e - s >= MaxDepth)
        {
            return Step.Fail;
        }

        frames[e++] = new Frame { Kind = FrameKind.Value, Node = node };
        return Step.Consumed;
    }

    private sealed class FrameComparer : IEqualityComparer<Frame>
    {
        public static readonly FrameComparer Instance = new();

        public bool Equals(Frame x, Frame y) => x.SameAs(y);

        public int GetHashCode(Frame obj) => HashCode.Combine(obj.Node, obj.Kind, obj.Phase, obj.Count);
    }
}
