using System.CommandLine;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using Mesh.Configuration;
using Spectre.Console;

namespace Mesh.Cli.Commands;

/// <summary>
/// <c>meshctl list [SERVICE]</c>: services and endpoints as configured in etcd; with <c>--admin URL</c>, as a running app
/// sees them, with live state (active requests, failures, ejection, warm-up weight).
/// </summary>
internal static class ListCommand
{
    public static Command Create(GlobalOptions globals, TextWriter output, TextWriter error)
    {
        var service = new Argument<string?>("service") { Description = "Only this service", Arity = ArgumentArity.ZeroOrOne };
        var admin = new Option<string?>("--admin") { Description = "Admin endpoint URL of a running app, e.g. http://127.0.0.1:5000/mesh/admin" };
        var token = new Option<string?>("--admin-token") { Description = "Bearer token of the admin endpoint (env MESH_ADMIN_TOKEN)" };
        var command = new Command("list", "List services and endpoints (from etcd, or live from an app's admin endpoint).") { service, admin, token };
        command.SetAction(async (parse, ct) =>
        {
            var rows = parse.GetValue(admin) is { } url
                ? await FromAdminAsync(url, parse.GetValue(token) ?? Environment.GetEnvironmentVariable("MESH_ADMIN_TOKEN"), ct).ConfigureAwait(false)
                : await FromEtcdAsync(globals.OpenStore(parse), error, ct).ConfigureAwait(false);
            if (parse.GetValue(service) is { } only)
            {
                rows = rows.Where(r => string.Equals(r.Service, only, StringComparison.OrdinalIgnoreCase)).ToList();
            }

            if (parse.GetValue(globals.Json))
            {
                GlobalOptions.WriteJson(output, rows);
                return 0;
            }

            var table = new Table().AddColumns("service", "endpoint", "address", "weight", "lane", "zone", "state");
            foreach (var r in rows)
            {
                table.AddRow(Markup.Escape(r.Service), Markup.Escape(r.Id ?? "(no endpoints)"), Markup.Escape(r.Address ?? ""),
                    r.Weight?.ToString(CultureInfo.InvariantCulture) ?? "", Markup.Escape(r.Lane ?? ""), Markup.Escape(r.Zone ?? ""), State(r));
            }

            GlobalOptions.Console(output).Write(table);
            return 0;
        });
        return command;
    }

    private static string State(EndpointRow row) => row.Ejected switch
    {
        null => "",
        true => $"[red]ejected until {row.EjectedUntil:O}[/], failures {row.Failures}",
        false => row.EffectiveWeight is { } w && w < row.Weight
            ? $"[yellow]warming[/] (weight {w.ToString("0.#", CultureInfo.InvariantCulture)}), in flight {row.ActiveRequests}, failures {row.Failures}"
            : $"[green]active[/], in flight {row.ActiveRequests}, failures {row.Failures}",
    };

    private static async Task<List<EndpointRow>> FromEtcdAsync(EtcdMeshStore store, TextWriter error, CancellationToken ct)
    {
        using (store)
        {
            var (document, skipped) = await store.ReadDocumentAsync(ct).ConfigureAwait(false);
            skipped.ForEach(e => error.WriteLine($"skipped {e.Path}: {e.Message}"));
            return Rows(document);
        }
    }

    private static List<EndpointRow> Rows(MeshDocument document)
    {
        var rows = new List<EndpointRow>();
        foreach (var (name, service) in (document.Services ?? []).OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            if (service.Endpoints is not { Count: > 0 } endpoints)
            {
                rows.Add(new EndpointRow(name, null, null, null, null, null));
                continue;
            }

            rows.AddRange(endpoints.Select(e => new EndpointRow(name, e.Id, e.Address, e.Weight ?? 100, e.Tags?.GetValueOrDefault("lane"), e.Zone)));
        }

        return rows;
    }

    private static async Task<List<EndpointRow>> FromAdminAsync(string url, string? token, CancellationToken ct)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        using var response = await http.SendAsync(request, ct).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false));
        var rows = new List<EndpointRow>();
        foreach (var service in json.RootElement.GetProperty("services").EnumerateArray())
        {
            var name = service.GetProperty("name").GetString()!;
            foreach (var e in service.GetProperty("endpoints").EnumerateArray())
            {
                rows.Add(new EndpointRow(name, e.GetProperty("id").GetString(), e.GetProperty("address").GetString(), e.GetProperty("weight").GetInt32(),
                    e.TryGetProperty("lane", out var lane) ? lane.GetString() : null, e.TryGetProperty("zone", out var zone) ? zone.GetString() : null)
                {
                    Ejected = e.GetProperty("ejected").GetBoolean(),
                    EjectedUntil = e.TryGetProperty("ejectedUntil", out var until) && until.ValueKind == JsonValueKind.String ? until.GetDateTimeOffset() : null,
                    ActiveRequests = e.GetProperty("activeRequests").GetInt32(),
                    Failures = e.GetProperty("failures").GetInt64(),
                    EffectiveWeight = e.GetProperty("effectiveWeight").GetDouble(),
                });
            }
        }

        return rows;
    }
}

/// <summary>One row of <c>meshctl list</c>; the state fields are set only when read from an admin endpoint.</summary>
internal sealed record EndpointRow(string Service, string? Id, string? Address, int? Weight, string? Lane, string? Zone)
{
    public bool? Ejected { get; init; }

    public DateTimeOffset? EjectedUntil { get; init; }

    public int? ActiveRequests { get; init; }

    public long? Failures { get; init; }

    public double? EffectiveWeight { get; init; }
}
