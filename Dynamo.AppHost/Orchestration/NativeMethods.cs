using System.Runtime.InteropServices;

namespace Dynamo.AppHost.Orchestration;

internal static partial class NativeMethods
{
    public const int SIGTERM = 15;

    /// <summary>kill(2): Process.Kill only sends SIGKILL, but a graceful stop needs SIGTERM first.</summary>
    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int signal);
}
