namespace Dynamo.Worker.Engines.Sampling;

/// <summary>
/// An out-of-range sampling parameter. <see cref="Parameter"/> is the OpenAI wire name (e.g. <c>top_p</c>)
/// so the Router can answer OpenAI's 400 <c>invalid_parameter</c> with <c>param</c> set.
/// </summary>
public sealed record SamplingParameterError(string Parameter, string Message);

public sealed class InvalidSamplingParameterException : ArgumentException
{
    public InvalidSamplingParameterException(SamplingParameterError error)
        : base((error ?? throw new ArgumentNullException(nameof(error))).Message, error.Parameter)
    {
        Error = error;
    }

    public SamplingParameterError Error { get; }
}
