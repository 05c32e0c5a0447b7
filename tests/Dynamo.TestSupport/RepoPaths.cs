namespace Dynamo.TestSupport;

/// <summary>Locates the repository root and the sibling <c>shared/</c> folder from a test's output directory.</summary>
public static class RepoPaths
{
    private static readonly Lazy<string> s_root = new(FindRoot);

    public static string Root => s_root.Value;

    /// <summary>The <c>shared/</c> folder next to the repository (fixtures, traces).</summary>
    public static string Shared => Path.GetFullPath(Path.Combine(Root, "..", "shared"));

    public static string Fixture(params string[] parts) => Path.Combine([Shared, "fixtures", .. parts]);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Dynamo.Aspire.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"Dynamo.Aspire.sln not found above {AppContext.BaseDirectory}.");
    }
}
