using Dynamo.AppHost.Orchestration;

namespace Dynamo.AppHost.Tests.Orchestration;

public sealed class ChildLogWriterTests
{
    [Fact]
    public void Write_RedirectedOutput_PrefixesPaddedName()
    {
        using var output = new StringWriter();
        var writer = new ChildLogWriter(output) { PrefixWidth = 10 };

        writer.Write("router-0", "listening", isError: false);
        writer.Write("nats-0", "ready", isError: true);

        Assert.Equal(["router-0   | listening", "nats-0     | ready"], output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries));
    }
}
