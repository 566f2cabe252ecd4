using System.CommandLine;
using Mesh.Cli.Commands;

namespace Mesh.Cli;

/// <summary>The meshctl command tree. Output goes to the given writers so tests run it in process.</summary>
internal static class MeshCtl
{
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        var globals = new GlobalOptions();
        var root = new RootCommand("meshctl: validate, explain, inspect and edit Mesh rules (mesh.json files and etcd).");
        globals.AddTo(root);
        root.Subcommands.Add(ValidateCommand.Create(globals, output, error));
        root.Subcommands.Add(DocumentCommands.CreatePut(globals, output, error));
        root.Subcommands.Add(DocumentCommands.CreateGet(globals, output, error));
        root.Subcommands.Add(DocumentCommands.CreateDelete(globals, output, error));
        root.Subcommands.Add(ImportCommand.Create(globals, output, error));
        root.Subcommands.Add(ListCommand.Create(globals, output, error));
        root.Subcommands.Add(ExplainCommand.Create(globals, output, error));
        var configuration = new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false };
        var parse = root.Parse(args);
        try
        {
            return await parse.InvokeAsync(configuration, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is Grpc.Core.RpcException or HttpRequestException or IOException or UnauthorizedAccessException)
        {
            // Operators get one line naming what failed, not a stack trace; exit 2 tells scripts it was not a rule error.
            var target = ex is Grpc.Core.RpcException ? $"etcd at {parse.GetValue(globals.Endpoints)}: " : "";
            error.WriteLine($"meshctl: {target}{(ex is Grpc.Core.RpcException rpc ? rpc.Status.Detail : ex.Message)}");
            return 2;
        }
    }
}
