using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using Dynamo.AppHost.Hosting;
using Microsoft.Extensions.Options;

namespace Dynamo.AppHost.Orchestration;

/// <summary>Finds the repository root (the folder holding Dynamo.Aspire.sln).</summary>
internal static class RepositoryLayout
{
    public const string SolutionFile = "Dynamo.Aspire.sln";

    public static string FindRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, SolutionFile)))
                {
                    return dir.FullName;
                }
            }
        }

        return Directory.GetCurrentDirectory();
    }
}

/// <summary>Paths of this run: <c>.dynamo/endpoints.json</c> and a fresh <c>.dynamo/run-&lt;timestamp&gt;/</c> for data.</summary>
internal sealed class RunContext
{
    /// <summary>Old run folders kept for their logs and data; older ones are deleted at start-up.</summary>
    private const int KeptRuns = 5;

    public RunContext(IOptions<AppHostOptions> options, TimeProvider time)
    {
        RepositoryRoot = RepositoryLayout.FindRoot();
        StateDirectory = Path.GetFullPath(options.Value.StateDirectory ?? Path.Combine(RepositoryRoot, ".dynamo"));
        StartedAt = time.GetUtcNow();
        RunId = StartedAt.ToString("yyyyMMdd-HHmmss-fff", CultureInfo.InvariantCulture);
        RunDirectory = Path.Combine(StateDirectory, "run-" + RunId);
        EndpointsFile = Path.Combine(StateDirectory, "endpoints.json");
    }

    public string RepositoryRoot { get; }

    public string StateDirectory { get; }

    public DateTimeOffset StartedAt { get; }

    public string RunId { get; }

    public string RunDirectory { get; }

    public string EndpointsFile { get; }

    /// <summary>Admin key of this run's gateway (see <see cref="DevelopmentApiKeyAnnotation"/>); new every run, never written down.</summary>
    public string AdminKey { get; } = NewSecret("dyn-admin-");

    /// <summary>API key this run's gateway provisions; printed and written to endpoints.json as <c>apiKey</c>.</summary>
    public string DevelopmentApiKey { get; } = NewSecret("dyn-");

    /// <summary>Operator user name of the Admin app in local runs (see <see cref="DevelopmentAdminCredentialsAnnotation"/>).</summary>
    public const string AdminUsername = "operator";

    /// <summary>Operator password of the Admin app in local runs; new every run, printed and written to endpoints.json.</summary>
    public string AdminPassword { get; } = NewSecret("");

    private static string NewSecret(string prefix) => prefix + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    public string DataDirectory(string replicaName)
    {
        var path = Path.Combine(RunDirectory, replicaName);
        Directory.CreateDirectory(path);
        return path;
    }

    public void Prepare()
    {
        Directory.CreateDirectory(RunDirectory);
        var old = new DirectoryInfo(StateDirectory).GetDirectories("run-*")
            .OrderByDescending(d => d.Name, StringComparer.Ordinal)
            .Skip(KeptRuns);
        foreach (var dir in old)
        {
            try
            {
                dir.Delete(recursive: true);
            }
            catch (IOException)
            {
                // Another AppHost may still use it; it is pruned next time.
            }
        }
    }
}
