using System.Text.Json;
using System.Text.Json.Nodes;
using Mesh.Configuration;
using Mesh.LoadBalancing;
using Mesh.Model;
using Mesh.Runtime;

namespace Mesh.Extensions.Admin;

/// <summary>
/// The admin endpoint's JSON: the snapshot in force (version and the validated rules), every endpoint with its live
/// state, and the recent rejected documents, with secrets masked (<see cref="SecretRedaction"/>). The shape is what
/// <c>meshctl list --admin</c> reads.
/// </summary>
internal static class MeshAdminReport
{
    public static async Task WriteAsync(Stream body, MeshRuntime runtime, CancellationToken cancellationToken)
    {
        var snapshot = runtime.Snapshot;
        var timestamp = runtime.Time.GetTimestamp();
        var now = runtime.Time.GetUtcNow();
        await using var json = new Utf8JsonWriter(body, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteString("serviceName", snapshot.ServiceName);
        json.WriteStartObject("snapshot");
        json.WriteNumber("version", snapshot.Version);
        json.WriteBoolean("enabled", snapshot.Enabled);
        json.WriteString("laneHeader", snapshot.LaneHeader);
        json.WriteString("callerHeader", snapshot.CallerHeader);
        json.WritePropertyName("document");
        var document = JsonNode.Parse(MeshJson.Serialize(snapshot.Document));
        SecretRedaction.Redact(document);
        document!.WriteTo(json);
        json.WriteEndObject();

        json.WriteStartArray("services");
        foreach (var service in snapshot.Services.Values.OrderBy(s => s.Name, StringComparer.Ordinal))
        {
            var warmUp = service.Policy.WarmUp is { Duration: { } duration } w ? new WarmUp(duration, w.Curve ?? 1, runtime.Time) : null;
            json.WriteStartObject();
            json.WriteString("name", service.Name);
            json.WriteString("loadBalancer", service.Policy.LoadBalancer?.Kind ?? "roundRobin");
            json.WriteStartArray("routes");
            foreach (var route in service.Routes)
            {
                json.WriteStringValue(route.Name);
            }

            json.WriteEndArray();
            json.WriteStartArray("endpoints");
            foreach (var endpoint in service.Endpoints)
            {
                WriteEndpoint(json, endpoint, warmUp, runtime.Time, timestamp, now);
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteStartArray("rejections");
        foreach (var rejection in runtime.RecentRejections)
        {
            json.WriteStartObject();
            json.WriteString("at", rejection.At);
            json.WriteString("source", rejection.Source);
            json.WriteString("path", rejection.Error.Path);
            json.WriteString("message", rejection.Error.Message);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
        await json.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private static void WriteEndpoint(Utf8JsonWriter json, Endpoint endpoint, WarmUp? warmUp, TimeProvider time, long timestamp, DateTimeOffset now)
    {
        var state = endpoint.State;
        json.WriteStartObject();
        json.WriteString("id", endpoint.Id);
        json.WriteString("address", endpoint.UriPrefix);
        json.WriteNumber("weight", endpoint.Weight);
        json.WriteNumber("effectiveWeight", warmUp?.EffectiveWeight(endpoint, timestamp) ?? endpoint.Weight);
        json.WriteString("lane", endpoint.Lane);
        json.WriteString("zone", endpoint.Zone);
        json.WriteNumber("activeRequests", state.ActiveRequests);
        json.WriteNumber("requests", state.Requests);
        json.WriteNumber("failures", state.Failures);
        json.WriteNumber("consecutiveFailures", state.ConsecutiveFailures);
        json.WriteNumber("ejections", state.Ejections);
        var ejected = state.IsEjected(timestamp);
        json.WriteBoolean("ejected", ejected);
        if (ejected)
        {
            // EjectedUntil is a TimeProvider timestamp; turn it into wall-clock time for people and scripts.
            json.WriteString("ejectedUntil", now + time.GetElapsedTime(timestamp, state.EjectedUntil));
        }
        else
        {
            json.WriteNull("ejectedUntil");
        }

        json.WriteEndObject();
    }
}
