using System.ComponentModel.DataAnnotations;

namespace Dynamo.Runtime.Hosting;

/// <summary>Settings shared by every service (section <c>Dynamo</c>).</summary>
public sealed class DynamoRuntimeOptions
{
    public const string Section = "Dynamo";

    /// <summary>Prefix of every subject and key, so several deployments can share one NATS and one Redis.</summary>
    [Required]
    [RegularExpression("^[A-Za-z0-9_-]+$", ErrorMessage = "Dynamo:Namespace may contain only letters, digits, '_' and '-'.")]
    public string Namespace { get; set; } = "dynamo";
}
