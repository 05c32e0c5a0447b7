using System.Numerics;

namespace Dynamo.Runtime.Guided;

/// <summary>Objects and arrays. Phases: object 0 after '{', 1 in a key, 2 after the key, 4 after a value, 5 after ','.</summary>
internal static partial class JsonMatcherCore
{
    private static Step StepObject(SchemaNode node, ref Frame top, byte b, Frame[] frames, ref int e, int s)
    {
        var declared = node.PropertyNames.Length;
        if (top.Phase == 1)
        {
            return StepKey(node, ref top, b);
        }

        if (IsWhitespace(b))
        {
            return Whitespace(ref top);
        }

        top.Ws = 0;
        switch (top.Phase)
        {
            case 0 or 5 when b == '"':
                var candidates = KeyCandidates(node, top.Count);
                if (candidates == 0 && !AdditionalAllowed(node, top.Count))
                {
                    return Step.Fail;
                }

                top.Phase = 1;
                top.KeyPos = 0;
                top.Candidates = candidates;
                top.Lex = 0;
                return Step.Consumed;
            case 0 or 4 when b == '}':
                return node.NextRequired[Math.Min(top.Count, declared)] == declared ? Pop(frames, ref e) : Step.Fail;
            case 4 when b == ',':
                if (KeyCandidates(node, top.Count) == 0 && !AdditionalAllowed(node, top.Count))
                {
                    return Step.Fail;
                }

                top.Phase = 5;
                return Step.Consumed;
            case 2 when b == ':':
                top.Phase = 4;
                var value = top.Target;
                return Push(frames, ref e, s, value);
            default:
                return Step.Fail;
        }
    }

    private static Step StepKey(SchemaNode node, ref Frame top, byte b)
    {
        var names = node.PropertyNames;
        var free = AdditionalAllowed(node, top.Count);
        if (top.Lex == 0 && b == '"')
        {
            for (var bits = top.Candidates; bits != 0; bits &= bits - 1)
            {
                var j = BitOperations.TrailingZeroCount(bits);
                if (names[j].Length == top.KeyPos)
                {
                    top.Target = node.PropertySchemas[j];
                    top.Count = j + 1;
                    top.Phase = 2;
                    return Step.Consumed;
                }
            }

            if (!free)
            {
                return Step.Fail;
            }

            // Extra keys come after the declared ones, so none of those can follow.
            top.Target = node.AdditionalSchema;
            top.Count = names.Length;
            top.Phase = 2;
            return Step.Consumed;
        }

        ulong next = 0;
        for (var bits = top.Candidates; bits != 0; bits &= bits - 1)
        {
            var j = BitOperations.TrailingZeroCount(bits);
            var name = names[j];
            if (name.Length > top.KeyPos && name[top.KeyPos] == b)
            {
                next |= 1UL << j;
            }
        }

        if ((next == 0 && !free) || !Lex(ref top, b, int.MaxValue, counting: false))
        {
            return Step.Fail;
        }

        top.Candidates = next;
        top.KeyPos++;
        return Step.Consumed;
    }

    /// <summary>Declared properties that may come next: from <paramref name="index"/> up to the first required one.</summary>
    private static ulong KeyCandidates(SchemaNode node, int index)
    {
        var declared = node.PropertyNames.Length;
        if (index >= declared)
        {
            return 0;
        }

        var last = Math.Min(node.NextRequired[index], declared - 1);
        var count = last - index + 1;
        var run = count == 64 ? ulong.MaxValue : (1UL << count) - 1;
        return run << index;
    }

    private static bool AdditionalAllowed(SchemaNode node, int index) =>
        node.AdditionalSchema >= 0 && node.NextRequired[Math.Min(index, node.PropertyNames.Length)] == node.PropertyNames.Length;

    /// <summary>Array phases: 0 after '[', 1 after an item, 2 after ','.</summary>
    private static Step StepArray(SchemaNode node, ref Frame top, byte b, Frame[] frames, ref int e, int s)
    {
        if (IsWhitespace(b))
        {
            return Whitespace(ref top);
        }

        top.Ws = 0;
        switch (top.Phase)
        {
            case 0 when b == ']':
                return node.MinItems == 0 ? Pop(frames, ref e) : Step.Fail;
            case 1 when b == ',':
                if (top.Count >= node.MaxItems)
                {
                    return Step.Fail;
                }

                top.Phase = 2;
                return Step.Consumed;
            case 1 when b == ']':
                return top.Count >= node.MinItems ? Pop(frames, ref e) : Step.Fail;
            case 0 or 2:
                if (node.MaxItems == 0)
                {
                    return Step.Fail;
                }

                top.Phase = 1;
                var item = node.Items;
                return Push(frames, ref e, s, item) == Step.Fail ? Step.Fail : Step.Retry;
            default:
                return Step.Fail;
        }
    }
}
