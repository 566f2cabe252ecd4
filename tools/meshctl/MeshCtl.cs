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
        var configuration = new InvocationConfiguration { Output = output, Error = error };
        return await root.Parse(args).InvokeAsync(configuration, cancellationToken).ConfigureAwait(false);
    }
}
