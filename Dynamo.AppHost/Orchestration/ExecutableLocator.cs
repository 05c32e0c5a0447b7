using Dynamo.AppHost.Hosting;

namespace Dynamo.AppHost.Orchestration;

/// <summary>Finds native executables: an explicit AppHost:ExecutablePaths entry, else PATH and the sbin folders Debian uses.</summary>
internal static class ExecutableLocator
{
    private static readonly string[] s_extraFolders = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

    public static string? Resolve(ExecutableResource resource, AppHostOptions options)
    {
        if (options.ExecutablePaths.TryGetValue(resource.Name, out var configured))
        {
            return IsExecutable(configured) ? Path.GetFullPath(configured) : null;
        }

        return Find(resource.Command);
    }

    public static string? Find(string command)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        return path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Concat(s_extraFolders)
            .Select(folder => Path.Combine(folder, command))
            .FirstOrDefault(IsExecutable);
    }

    public static string DescribeMissing(ExecutableResource resource, AppHostOptions options)
        => options.ExecutablePaths.TryGetValue(resource.Name, out var configured)
            ? $"{resource.Command} for resource '{resource.Name}' not found at {configured} (AppHost:ExecutablePaths:{resource.Name}); {resource.InstallHint}."
            : $"{resource.Command} for resource '{resource.Name}' not found on PATH or in /usr/sbin; {resource.InstallHint}.";

    private static bool IsExecutable(string path)
        => File.Exists(path) && (OperatingSystem.IsWindows() || (File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0);
}
