using System.Runtime.InteropServices;

namespace Dynamo.Worker.Engines.Native;

/// <summary>Status codes of the native engine (dyn_status).</summary>
public enum NativeStatus
{
    Ok = 0,
    InvalidArgument = 1,
    IoError = 2,
    FormatError = 3,
    Unsupported = 4,
    OutOfMemory = 5,
    OutOfRange = 6,
    Internal = 7,
}

/// <summary>A failure reported by the native engine, carrying its status and message.</summary>
public sealed class NativeEngineException : Exception
{
    public NativeEngineException(NativeStatus status, string message)
        : base($"{message} ({status})")
    {
        Status = status;
        NativeMessage = message;
    }

    public NativeStatus Status { get; }

    public string NativeMessage { get; }
}

internal static class NativeStatusExtensions
{
    /// <summary>The one place native status codes become exceptions; must run on the calling thread (the message is thread-local).</summary>
    public static void ThrowIfFailed(this NativeStatus status)
    {
        if (status == NativeStatus.Ok)
        {
            return;
        }

        var message = Marshal.PtrToStringUTF8(NativeMethods.dyn_last_error());
        throw new NativeEngineException(status, string.IsNullOrEmpty(message) ? "native engine call failed" : message);
    }
}
