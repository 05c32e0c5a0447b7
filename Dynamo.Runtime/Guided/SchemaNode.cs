namespace Dynamo.Runtime.Guided;

internal enum SchemaKind : byte
{
    /// <summary>Any JSON value (<c>{}</c> or <c>true</c>).</summary>
    Any,
    Object,
    Array,
    String,
    Number,
    Integer,

    /// <summary>One of a fixed set of JSON texts: enum, const, boolean, null.</summary>
    Literal,

    /// <summary>anyOf / oneOf / a list of types: the matcher follows every alternative until the bytes decide.</summary>
    Union,
}

/// <summary>One compiled schema; nodes refer to each other by index so recursive <c>$ref</c>s are plain cycles.</summary>
internal sealed class SchemaNode
{
    public SchemaKind Kind { get; set; }

    /// <summary>Object: property names as they appear between the quotes (JSON-escaped), in schema order.</summary>
    public byte[][] PropertyNames { get; set; } = [];

    public int[] PropertySchemas { get; set; } = [];

    public bool[] PropertyRequired { get; set; } = [];

    /// <summary>Object: the schema of keys beyond the declared properties, or -1 when there may be none.</summary>
    public int AdditionalSchema { get; set; } = -1;

    /// <summary>Array: the schema of every item.</summary>
    public int Items { get; set; } = -1;

    public int MinItems { get; set; }

    public int MaxItems { get; set; } = int.MaxValue;

    /// <summary>String: bounds in code points (an escape counts as the one character it stands for).</summary>
    public int MinLength { get; set; }

    public int MaxLength { get; set; } = int.MaxValue;

    /// <summary>Literal: the allowed JSON texts, compact, at most 64 (the matcher tracks them in a bit mask).</summary>
    public byte[][] Literals { get; set; } = [];

    public int[] Alternatives { get; set; } = [];

    /// <summary>Index of the first required property at or after each position (PropertyNames.Length when none).</summary>
    public int[] NextRequired { get; set; } = [];

    public void Seal()
    {
        var next = new int[PropertyNames.Length + 1];
        next[PropertyNames.Length] = PropertyNames.Length;
        for (var i = PropertyNames.Length - 1; i >= 0; i--)
        {
            next[i] = PropertyRequired[i] ? i : next[i + 1];
        }

        NextRequired = next;
    }
}
