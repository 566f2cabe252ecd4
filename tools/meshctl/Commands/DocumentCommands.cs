using System.CommandLine;
using Mesh.Configuration;
using Mesh.Providers.Etcd;

namespace Mesh.Cli.Commands;

/// <summary><c>put</c>, <c>get</c> and <c>delete</c> of single documents in etcd (policy, endpoint, config).</summary>
internal static class DocumentCommands
{
    public static Command CreatePut(GlobalOptions globals, TextWriter output, TextWriter error)
    {
        var put = new Command("put", "Validate a document, then write it to its etcd key (nothing is written when it is invalid).");
        var service = ServiceArgument();
        var file = new Argument<string>("file") { Description = "The document, or - for standard input" };
        var policy = new Command("policy", "Write /{prefix}/services/{service}/policy") { service, file };
        policy.SetAction((parse, ct) => PutAsync(parse, globals, output, error, DocumentKind.Policy, parse.GetValue(service), parse.GetValue(file)!, ct));
        var endpointService = ServiceArgument();
        var endpointFile = new Argument<string>("file") { Description = "The endpoint document (with its id), or - for standard input" };
        var endpoint = new Command("endpoint", "Write /{prefix}/services/{service}/endpoints/{id} (no lease: for static endpoints)") { endpointService, endpointFile };
        endpoint.SetAction((parse, ct) => PutAsync(parse, globals, output, error, DocumentKind.Endpoint, parse.GetValue(endpointService), parse.GetValue(endpointFile)!, ct));
        var configFile = new Argument<string>("file") { Description = "The settings document, or - for standard input" };
        var config = new Command("config", "Write /{prefix}/config") { configFile };
        config.SetAction((parse, ct) => PutAsync(parse, globals, output, error, DocumentKind.Config, null, parse.GetValue(configFile)!, ct));
        put.Subcommands.Add(policy);
        put.Subcommands.Add(endpoint);
        put.Subcommands.Add(config);
        return put;
    }

    public static Command CreateGet(GlobalOptions globals, TextWriter output, TextWriter error)
    {
        var get = new Command("get", "Print a document from etcd.");
        foreach (var (command, key) in KeyCommands("Print"))
        {
            command.SetAction(async (parse, ct) =>
            {
                using var store = globals.OpenStore(parse);
                var name = key(parse, store.Keys);
                var value = await store.GetAsync(name, ct).ConfigureAwait(false);
                if (value is null)
                {
                    error.WriteLine($"{name}: not found");
                    return 1;
                }

                output.WriteLine(value);
                return 0;
            });
            get.Subcommands.Add(command);
        }

        var mesh = new Command("mesh", "Print the whole mesh as one mesh.json document, assembled from the keys under the prefix");
        mesh.SetAction(async (parse, ct) =>
        {
            using var store = globals.OpenStore(parse);
            var (document, errors) = await store.ReadDocumentAsync(ct).ConfigureAwait(false);
            output.WriteLine(MeshJson.Serialize(document));
            foreach (var e in errors)
            {
                error.WriteLine($"skipped {e.Path}: {e.Message}");
            }

            return errors.Count == 0 ? 0 : 1;
        });
        get.Subcommands.Add(mesh);
        return get;
    }

    public static Command CreateDelete(GlobalOptions globals, TextWriter output, TextWriter error)
    {
        var delete = new Command("delete", "Delete documents from etcd.");
        foreach (var (command, key) in KeyCommands("Delete"))
        {
            command.SetAction((parse, ct) => DeleteAsync(parse, globals, output, error, key, prefix: false, ct));
            delete.Subcommands.Add(command);
        }

        var service = ServiceArgument();
        var whole = new Command("service", "Delete a service: its policy and every endpoint key") { service };
        whole.SetAction((parse, ct) => DeleteAsync(parse, globals, output, error, (p, keys) => keys.Service(p.GetValue(service)!), prefix: true, ct));
        delete.Subcommands.Add(whole);
        return delete;
    }

    private static Argument<string> ServiceArgument() => new("service") { Description = "The logical service name" };

    // policy SERVICE, endpoint SERVICE ID and config: the commands get and delete share, with the key each names.
    private static IEnumerable<(Command Command, Func<ParseResult, EtcdKeys, string> Key)> KeyCommands(string verb)
    {
        var policyService = ServiceArgument();
        yield return (new Command("policy", $"{verb} the policy of a service") { policyService }, (p, keys) => keys.Policy(p.GetValue(policyService)!));
        var endpointService = ServiceArgument();
        var id = new Argument<string>("id") { Description = "The endpoint id" };
        yield return (new Command("endpoint", $"{verb} one endpoint of a service") { endpointService, id },
            (p, keys) => keys.Endpoint(p.GetValue(endpointService)!, p.GetValue(id)!));
        yield return (new Command("config", $"{verb} the mesh-wide settings"), (_, keys) => keys.Config);
    }

    private static async Task<int> PutAsync(ParseResult parse, GlobalOptions globals, TextWriter output, TextWriter error,
        DocumentKind kind, string? service, string file, CancellationToken cancellationToken)
    {
        var json = await DocumentValidation.ReadAsync(file, cancellationToken).ConfigureAwait(false);
        var errors = DocumentValidation.Validate(kind, json, out var document);
        if (service is not null && !MeshValidator.IsValidServiceName(service))
        {
            errors.Add(new ValidationError("service", $"service name '{service}' is not a valid host name (letters, digits, '-', '.')"));
        }

        if (errors.Count > 0)
        {
            DocumentValidation.Report(error, file, errors);
            error.WriteLine("nothing written");
            return 1;
        }

        using var store = globals.OpenStore(parse);
        var (key, value) = document switch
        {
            PolicyDocument policy => (store.Keys.Policy(service!), MeshJson.Serialize(policy)),
            EndpointDocument endpoint => (store.Keys.Endpoint(service!, endpoint.Id!), MeshJson.Serialize(endpoint)),
            _ => (store.Keys.Config, MeshJson.Serialize((MeshSettings)document!)),
        };
        if (service is not null && await store.CheckServiceAsync(service, key, value, cancellationToken).ConfigureAwait(false) is { Count: > 0 } refused)
        {
            DocumentValidation.Report(error, file, refused);
            error.WriteLine($"nothing written: the runtime would refuse service '{service}' as a whole");
            return 1;
        }

        await store.PutAsync(key, value, cancellationToken).ConfigureAwait(false);
        Report(parse, globals, output, new { action = "put", key });
        return 0;
    }

    private static async Task<int> DeleteAsync(ParseResult parse, GlobalOptions globals, TextWriter output, TextWriter error,
        Func<ParseResult, EtcdKeys, string> key, bool prefix, CancellationToken cancellationToken)
    {
        using var store = globals.OpenStore(parse);
        var name = key(parse, store.Keys);
        var deleted = await store.DeleteAsync(name, prefix, cancellationToken).ConfigureAwait(false);
        if (deleted == 0)
        {
            error.WriteLine($"{name}: not found");
            return 1;
        }

        Report(parse, globals, output, new { action = "delete", key = name, deleted });
        return 0;
    }

    private static void Report<T>(ParseResult parse, GlobalOptions globals, TextWriter output, T result)
    {
        if (parse.GetValue(globals.Json))
        {
            GlobalOptions.WriteJson(output, result);
        }
        else
        {
            output.WriteLine(result!.ToString()!.Trim('{', '}', ' ').Replace(" = ", ": ", StringComparison.Ordinal));
        }
    }
}
