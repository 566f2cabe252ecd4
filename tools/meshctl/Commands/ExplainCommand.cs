using System.CommandLine;
using Mesh.Configuration;
using Spectre.Console;

namespace Mesh.Cli.Commands;

/// <summary>
/// <c>meshctl explain SERVICE --path /p --header k=v [--method] [--lane] [--query k=v] [--cookie k=v] [--file mesh.json]</c>:
/// which route, destination, lane and endpoint the router would choose for that request, and why.
/// </summary>
internal static class ExplainCommand
{
    public static Command Create(GlobalOptions globals, TextWriter output, TextWriter error)
    {
        var service = new Argument<string>("service") { Description = "The service called (the host of http://service/...)" };
        var method = new Option<string>("--method") { Description = "HTTP method", DefaultValueFactory = _ => "GET" };
        var path = new Option<string>("--path") { Description = "Request path", DefaultValueFactory = _ => "/" };
        var headers = Pairs("--header", "Request header name=value (repeatable)");
        var query = Pairs("--query", "Query parameter name=value (repeatable)");
        var cookies = Pairs("--cookie", "Cookie name=value (repeatable)");
        var lane = new Option<string?>("--lane") { Description = "The lane of the context the request runs in (a lane header given with --header outranks it, as at runtime)" };
        var file = new Option<string?>("--file") { Description = "Explain on this mesh.json instead of the rules in etcd" };
        var command = new Command("explain", "Dry-run one request through the real router: route tried, destination, lane, candidates, pick.")
        {
            service, method, path, headers, query, cookies, lane, file,
        };
        command.SetAction(async (parse, ct) =>
        {
            MeshDocument document;
            if (parse.GetValue(file) is { } mesh)
            {
                var errors = DocumentValidation.Validate(DocumentKind.Mesh, await DocumentValidation.ReadAsync(mesh, ct).ConfigureAwait(false), out var parsed);
                if (errors.Count > 0)
                {
                    DocumentValidation.Report(error, mesh, errors);
                    return 1;
                }

                document = (MeshDocument)parsed!;
            }
            else
            {
                using var store = globals.OpenStore(parse);
                (document, var skipped) = await store.ReadDocumentAsync(ct).ConfigureAwait(false);
                skipped.ForEach(e => error.WriteLine($"skipped {e.Path}: {e.Message}"));
            }

            var request = new ExplainRequest(parse.GetValue(method)!, parse.GetValue(path)!,
                ToMap(parse.GetValue(headers), StringComparer.OrdinalIgnoreCase), ToMap(parse.GetValue(query), StringComparer.Ordinal),
                ToMap(parse.GetValue(cookies), StringComparer.Ordinal));
            var explanation = Explainer.Explain(document, parse.GetValue(service)!, request, parse.GetValue(lane));
            if (parse.GetValue(globals.Json))
            {
                GlobalOptions.WriteJson(output, explanation);
            }
            else
            {
                Render(GlobalOptions.Console(output), explanation);
            }

            return explanation.Status == "Routed" ? 0 : 1;
        });
        return command;
    }

    private static Option<string[]> Pairs(string name, string description) => new(name) { Description = description, AllowMultipleArgumentsPerToken = false };

    private static Dictionary<string, string> ToMap(string[]? pairs, StringComparer comparer)
    {
        var map = new Dictionary<string, string>(comparer);
        foreach (var pair in pairs ?? [])
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                map[pair[..eq]] = pair[(eq + 1)..];
            }
            else
            {
                map[pair] = "";
            }
        }

        return map;
    }

    private static void Render(IAnsiConsole console, Explanation e)
    {
        console.MarkupLine($"[bold]{Markup.Escape(e.Service)}[/]: {Markup.Escape(e.Status)}");
        e.Errors.ForEach(x => console.MarkupLine($"[red]invalid:[/] {Markup.Escape(x)}"));
        if (e.Routes.Count > 0)
        {
            var routes = new Table().AddColumns("route", "match", "result");
            e.Routes.ForEach(r => routes.AddRow(Markup.Escape(r.Name), Markup.Escape(r.Match), r.Result == "matched" ? "[green]matched[/]" : Markup.Escape(r.Result)));
            console.Write(routes);
        }

        if (e.Route is not null)
        {
            console.MarkupLine($"route: [bold]{Markup.Escape(e.Route)}[/]   destination: {Markup.Escape(e.Destination ?? "")}   lane: {Markup.Escape(e.Lane ?? "base")}");
        }

        if (e.Candidates.Count > 0)
        {
            var candidates = new Table().AddColumns("endpoint", "address", "weight", "lane", "zone", "ejected", "picked");
            e.Candidates.ForEach(c => candidates.AddRow(Markup.Escape(c.Id), Markup.Escape(c.Address), c.Weight.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Markup.Escape(c.Lane ?? ""), Markup.Escape(c.Zone ?? ""), c.Ejected ? "[red]yes[/]" : "no", c.Picked ? "[green]<=[/]" : ""));
            console.Write(candidates);
        }

        if (e.Reason is not null)
        {
            console.MarkupLine($"why: {Markup.Escape(e.Reason)}");
        }
    }
}
