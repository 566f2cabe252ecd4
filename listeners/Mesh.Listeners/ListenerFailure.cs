using Mesh.Runtime;

namespace Mesh;

/// <summary>Reports an exception a diagnostic listener's observer caught, so that it never reaches the application.</summary>
internal static class ListenerFailure
{
    /// <summary>Counts it in <c>mesh.listener.failures</c> and reports it as a failure of <paramref name="observer"/>.</summary>
    public static void Report(MeshRuntime runtime, string listener, string observer, Exception exception)
    {
        try
        {
            runtime.Telemetry.ListenerFailures.Add(1, new KeyValuePair<string, object?>("mesh.listener", listener));
        }
        catch (Exception)
        {
            // A metric listener that throws must not turn a failure the mesh contained into one of the app's calls.
        }

        runtime.ReportExtensionFailure(observer, exception);
    }
}
