using System.CommandLine;
using Mesh.Configuration;

namespace Mesh.Cli.Commands;

/// <summary><c>meshctl import mesh.json [--replace]</c>: a whole validated document into etcd, in one transaction.</summary>
internal static class ImportCommand
{
    public static Command Create(GlobalOptions globals, TextWriter output, TextWriter error)
    {
        var file = new Argument<string>("file") { Description = "The mesh.json to import, or - for standard input" };
        var replace = new Option<bool>("--replace") { Description = "Delete the services already under the prefix first (same transaction)" };
        var command = new Command("import", "Validate a mesh.json, then write its settings, policies and endpoints to etcd in one transaction.") { file, replace };
        command.SetAction(async (parse, ct) =>
        {
            var path = parse.GetValue(file)!;
            var errors = DocumentValidation.Validate(DocumentKind.Mesh, await DocumentValidation.ReadAsync(path, ct).ConfigureAwait(false), out var document);
            if (errors.Count > 0)
            {
                DocumentValidation.Report(error, path, errors);
                error.WriteLine("nothing imported");
                return 1;
            }

            using var store = globals.OpenStore(parse);
            var keys = await store.ImportAsync((MeshDocument)document!, parse.GetValue(replace), ct).ConfigureAwait(false);
            var services = ((MeshDocument)document!).Services?.Count ?? 0;
            if (parse.GetValue(globals.Json))
            {
                GlobalOptions.WriteJson(output, new { action = "import", prefix = store.Keys.Prefix, services, keys });
            }
            else
            {
                output.WriteLine($"imported {services} service(s), {keys} key(s) under {store.Keys.Prefix}");
            }

            return 0;
        });
        return command;
    }
}
