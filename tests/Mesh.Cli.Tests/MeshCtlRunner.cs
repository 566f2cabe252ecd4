namespace Mesh.Cli.Tests;

/// <summary>Runs meshctl in process against an etcd and a prefix, capturing its output.</summary>
public sealed class MeshCtlRunner(string endpoint, string prefix)
{
    public string Prefix => prefix;

    public async Task<(int Exit, string Out, string Err)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await MeshCtl.RunAsync([.. args, "--endpoints", endpoint, "--prefix", prefix], output, error);
        return (exit, output.ToString(), error.ToString());
    }
}
