using System.Collections.Concurrent;
using System.Diagnostics;
using Mesh.Extensibility;
using Mesh.Http;
using Mesh.Routing;
using Mesh.Runtime;
using Mesh.Testing;
using Microsoft.AspNetCore.Http;
using Endpoint = Mesh.Model.Endpoint;

namespace Mesh.Listeners.Tests;

/// <summary>Routing of a plain <c>new HttpClient()</c> the application never configured.</summary>
public sealed class HttpClientRoutingTests : IAsyncLifetime
{
    private TestBackend _v1 = null!;
    private TestBackend _v2 = null!;
    private TestBackend _gray = null!;

    public async Task InitializeAsync()
    {
        _v1 = await TestBackend.StartAsync("orders-v1");
        _v2 = await TestBackend.StartAsync("orders-v2");
        _gray = await TestBackend.StartAsync("orders-gray");
    }

    public async Task DisposeAsync()
    {
        await _v1.DisposeAsync();
        await _v2.DisposeAsync();
        await _gray.DisposeAsync();
    }

    private string Config(string extraPolicy = "") => $$"""
        {
          "mesh": { "serviceName": "frontend" },
          "services": {
            "orders": {
              "endpoints": [
                { "id": "v1", "address": "{{_v1.Address}}", "tags": { "version": "v1" } },
                { "id": "v2", "address": "{{_v2.Address}}", "tags": { "version": "v2" } },
                { "id": "gray", "address": "{{_gray.Address}}", "tags": { "version": "v2", "lane": "gray" } }
              ],
              "policy": {
                {{extraPolicy}}
                "routes": [ { "name": "beta", "match": { "headers": { "x-user": { "prefix": "beta-" } } },
                              "destinations": [ { "subset": { "version": "v2" } } ] } ]
              }
            }
          }
        }
        """;

    // Not async on purpose: the ambient runtime it sets (an AsyncLocal) must stay in force in the calling test.
    private static AttachedRuntime Attach(string json) => new(json);

    [Fact]
    public async Task Get_ServiceHost_RoundRobinsOverBaseLane()
    {
        using var mesh = Attach(Config());
        using var client = new HttpClient();

        var bodies = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            bodies.Add(await client.GetStringAsync("http://orders/api/x"));
        }

        Assert.Equal(2, bodies.Count(b => b == "orders-v1"));
        Assert.Equal(2, bodies.Count(b => b == "orders-v2"));
    }

    [Fact]
    public async Task Get_HeaderRoute_GoesToSubset_PathAndQueryKept()
    {
        using var mesh = Attach(Config());
        using var client = new HttpClient();
        string? path = null;
        _v2.Handler = context =>
        {
            path = context.Request.Path + context.Request.QueryString;
            return context.Response.WriteAsync("v2");
        };

        using var request = new HttpRequestMessage(HttpMethod.Get, "http://orders/api/items?id=7");
        request.Headers.Add("x-user", "beta-1");
        using var response = await client.SendAsync(request);

        Assert.Equal("v2", await response.Content.ReadAsStringAsync());
        Assert.Equal("/api/items?id=7", path);
    }

    [Fact]
    public async Task Get_LaneHeader_GoesToLaneEndpoint_CallerStamped()
    {
        using var mesh = Attach(Config());
        using var client = new HttpClient();

        using var request = new HttpRequestMessage(HttpMethod.Get, "http://orders/");
        request.Headers.Add("x-mesh-lane", "gray");
        using var response = await client.SendAsync(request);

        Assert.Equal("orders-gray", await response.Content.ReadAsStringAsync());
        Assert.Equal("frontend", response.Headers.GetValues("x-seen-x-mesh-caller").Single());
    }

    [Fact]
    public async Task Get_AmbientContextLane_FollowsTaskRun_AndIsStamped()
    {
        using var mesh = Attach(Config());
        using var client = new HttpClient();
        using var context = MeshContext.Use(new MeshContext("gray", baggage: "user=42"));

        using var response = await Task.Run(() => client.GetAsync("http://orders/"));

        Assert.Equal("orders-gray", await response.Content.ReadAsStringAsync());
        Assert.Equal("gray", response.Headers.GetValues("x-seen-x-mesh-lane").Single());
        Assert.Equal("user=42", response.Headers.GetValues("x-seen-baggage").Single());
    }

    [Fact]
    public async Task Get_UnknownHost_PassesThroughUntouched()
    {
        using var mesh = Attach(Config());
        var runtime = mesh.Runtime;
        using var client = new HttpClient();

        using var response = await client.GetAsync($"{_v1.Address}/direct");

        Assert.Equal("orders-v1", await response.Content.ReadAsStringAsync());
        Assert.False(response.Headers.Contains("x-seen-x-mesh-caller"));
        Assert.All(runtime.Snapshot.Services["orders"].Endpoints, e => Assert.Equal(0, e.State.Requests));
    }

    [Fact]
    public async Task Get_NoEndpoint_ThrowsMeshRoutingExceptionWithReason()
    {
        using var mesh = Attach("""{ "services": { "orders": { "endpoints": [] } } }""");
        using var client = new HttpClient();

        var ex = await Assert.ThrowsAsync<MeshRoutingException>(() => client.GetStringAsync("http://orders/"));

        Assert.Equal(RouteStatus.NoEndpoint, ex.Status);
        Assert.Contains("service 'orders' has no endpoint", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_LaneRejectPolicy_ThrowsMeshRoutingException()
    {
        using var mesh = Attach(Config("\"lane\": { \"fallback\": \"reject\" },"));
        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://orders/");
        request.Headers.Add("x-mesh-lane", "blue");

        var ex = await Assert.ThrowsAsync<MeshRoutingException>(() => client.SendAsync(request));

        Assert.Equal(RouteStatus.LaneRejected, ex.Status);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Get_NoEndpoint_UnderHttpClientActivity_ActivityStoppedInError_CurrentRestored(bool synchronous)
    {
        using var mesh = Attach("""{ "services": { "orders": { "endpoints": [] } } }""");
        using var client = new HttpClient();
        using var parent = new Activity("test-parent").Start();
        var stopped = new ConcurrentQueue<Activity>();

        // A tracing SDK's listener on HttpClient's source: HttpClient then starts its activity before it raises the
        // start event, which the mesh routes (and here rejects) from.
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "System.Net.Http",

            // This test's trace only: the source is process-wide and other tests send through it in parallel.
            Sample = (ref ActivityCreationOptions<ActivityContext> options)
                => options.Parent.TraceId == parent.TraceId ? ActivitySamplingResult.AllDataAndRecorded : ActivitySamplingResult.None,
            ActivityStopped = stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://orders/");

        var ex = synchronous
            ? Assert.Throws<MeshRoutingException>(() => client.Send(request))
            : await Assert.ThrowsAsync<MeshRoutingException>(() => client.SendAsync(request));

        Assert.Equal(RouteStatus.NoEndpoint, ex.Status);
        var activity = Assert.Single(stopped);
        Assert.Equal("System.Net.Http.HttpRequestOut", activity.OperationName);
        Assert.Same(parent, activity.Parent);
        Assert.Equal(ActivityStatusCode.Error, activity.Status);
        Assert.Equal(typeof(MeshRoutingException).FullName, activity.GetTagItem("error.type"));
        Assert.Same(parent, Activity.Current);
    }

    [Fact]
    public async Task Outcomes_SuccessAndConnectFailure_ReportedOnce_ActiveCountReturnsToZero()
    {
        await using var doomed = await TestBackend.StartAsync("doomed");
        using var mesh = Attach($$"""{ "services": { "orders": { "endpoints": [ { "id": "d", "address": "{{doomed.Address}}" } ] } } }""");
        var (runtime, outcomes) = (mesh.Runtime, mesh.Outcomes);
        using var client = new HttpClient();

        await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => client.GetStringAsync("http://orders/")));
        await doomed.DisposeAsync();
        await Assert.ThrowsAsync<HttpRequestException>(() => client.GetStringAsync("http://orders/"));

        var state = runtime.Snapshot.Services["orders"].EndpointsById["d"].State;
        Assert.Equal(21, state.Requests);
        Assert.Equal(1, state.Failures);
        Assert.Equal(0, state.ActiveRequests);
        Assert.Equal(20, outcomes.Count(OutcomeKind.Success));
        Assert.Equal(1, outcomes.Count(OutcomeKind.ConnectFailure));
    }

    [Fact]
    public async Task Outcomes_ServerError_CountsAsFailure()
    {
        using var mesh = Attach(Config());
        var outcomes = mesh.Outcomes;
        using var client = new HttpClient();
        _gray.AnswerWith(503);

        using var request = new HttpRequestMessage(HttpMethod.Get, "http://orders/");
        request.Headers.Add("x-mesh-lane", "gray");
        using var response = await client.SendAsync(request);

        Assert.Equal(503, (int)response.StatusCode);
        Assert.Equal(1, outcomes.Count(OutcomeKind.ServerError));
    }

    [Fact]
    public async Task Outcomes_CanceledCall_PlainClient_LeavesInFlightOnceItsRequestIsCollected_NoOutcomeInvented()
    {
        using var mesh = Attach(Config());
        var (runtime, outcomes) = (mesh.Runtime, mesh.Outcomes);
        var state = runtime.Snapshot.Services["orders"].EndpointsById["gray"].State;
        using var client = new HttpClient();
        var release = new TaskCompletionSource();
        _gray.Handler = async context => await release.Task.WaitAsync(context.RequestAborted);

        await SendAndCancelAsync(client);
        release.SetResult();

        // HttpClient's response event for a canceled send carries no request, and a plain HttpClient has no handler of
        // the mesh's to see the cancellation go by: the attempt stays in flight until its request is collected, and
        // then leaves without an outcome, since when and how it ended is not known.
        await Eventually.UntilAsync(
            () =>
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                return state.ActiveRequests == 0;
            },
            "the canceled attempt to leave the in-flight count once its request is collected");
        Assert.Empty(outcomes.Kinds);
        Assert.Equal((0, 0), (state.Requests, state.Failures));

        // Kept out of the test method, so that nothing of the send outlives it there.
        async Task SendAndCancelAsync(HttpClient client)
        {
            using var cts = new CancellationTokenSource();
            var request = new HttpRequestMessage(HttpMethod.Get, "http://orders/");
            request.Headers.Add("x-mesh-lane", "gray");
            var call = client.SendAsync(request, cts.Token);
            await Eventually.UntilAsync(() => _gray.Requests > 0, "the request to reach the backend");
            Assert.Equal(1, state.ActiveRequests);
            await cts.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        }
    }

    [Fact]
    public async Task Get_UnderAmbientActivity_RoutedFromStartEvent_ReportedOnce()
    {
        using var mesh = Attach(Config());
        using var client = new HttpClient();

        // An ambient activity (as while an instrumented app handles a request) makes HttpClient create its own
        // activity without asking the listener; the mesh then routes from the activity's start event.
        using var activity = new Activity("test").Start();
        var body = await client.GetStringAsync("http://orders/api/x");

        Assert.StartsWith("orders-v", body, StringComparison.Ordinal);
        Assert.Equal(1, mesh.Outcomes.Count(OutcomeKind.Success));
        Assert.Equal(0, mesh.Runtime.Snapshot.Services["orders"].Endpoints.Sum(e => e.State.ActiveRequests));
    }

    [Fact]
    public async Task Get_AnotherSubscriberEnablesEveryEvent_RoutedOnce_ReportedOnce()
    {
        using var mesh = Attach(Config());
        using var greedy = new GreedySubscriber();
        using var client = new HttpClient();

        var body = await client.GetStringAsync("http://orders/api/x");

        Assert.StartsWith("orders-v", body, StringComparison.Ordinal);
        Assert.Contains("System.Net.Http.HttpRequestOut.Start", greedy.Events);
        Assert.Contains("System.Net.Http.Request", greedy.Events);
        Assert.Equal(1, _v1.Requests + _v2.Requests);
        Assert.Equal(1, mesh.Outcomes.Count(OutcomeKind.Success));
        Assert.Equal(0, mesh.Runtime.Snapshot.Services["orders"].Endpoints.Sum(e => e.State.ActiveRequests));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Get_InFlight_CountedOnItsEndpointUntilItsResponse(bool underActivity)
    {
        using var mesh = Attach(Config());
        using var client = new HttpClient();
        var state = mesh.Runtime.Snapshot.Services["orders"].EndpointsById["gray"].State;
        var release = new TaskCompletionSource();
        _gray.Handler = async context =>
        {
            await release.Task;
            await context.Response.WriteAsync("late");
        };
        using var activity = underActivity ? new Activity("test").Start() : null;
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://orders/");
        request.Headers.Add("x-mesh-lane", "gray");

        // The count is raised at the last question HttpClient asks before it sends, not when it routes: this pins
        // that HttpClient still asks it, with or without its own activity.
        var call = client.SendAsync(request);
        await Eventually.UntilAsync(() => _gray.Requests > 0, "the request to reach the backend");
        Assert.Equal(1, state.ActiveRequests);
        release.SetResult();
        using var response = await call;

        Assert.Equal("late", await response.Content.ReadAsStringAsync());
        Assert.Equal(0, state.ActiveRequests);
        Assert.Equal(1, state.Requests);
    }

    [Theory]
    [InlineData(SubscriberFailure.InPredicate)]
    [InlineData(SubscriberFailure.InEvent)]
    public async Task Get_SubscriberThrowsAfterRoutingBeforeTheSend_EndpointNotLeftInFlight(SubscriberFailure failure)
    {
        using var mesh = Attach(Config());
        var endpoints = mesh.Runtime.Snapshot.Services["orders"].Endpoints;
        using var client = new HttpClient();
        Assert.StartsWith("orders-v", await client.GetStringAsync("http://orders/"), StringComparison.Ordinal);

        // Subscribed after the mesh, so asked and told before it: the mesh routes on HttpClient's activity question,
        // then this subscriber throws on the request event, the last step before HttpClient's try block. The send
        // ends there, without the response or exception event that would complete the attempt.
        using var thrower = new ThrowingHttpSubscriber("System.Net.Http.Request", failure);
        thrower.Armed = true;
        await Assert.ThrowsAsync<ThrowingHttpSubscriber.Failure>(() => client.GetStringAsync("http://orders/"));
        thrower.Armed = false;

        Assert.Equal(0, endpoints.Sum(e => e.State.ActiveRequests));
        Assert.Equal(1, _v1.Requests + _v2.Requests);
        Assert.StartsWith("orders-v", await client.GetStringAsync("http://orders/"), StringComparison.Ordinal);
        Assert.Equal(0, endpoints.Sum(e => e.State.ActiveRequests));
        Assert.Equal(2, mesh.Outcomes.Count(OutcomeKind.Success));
    }

    [Fact]
    public async Task Get_RouteFilterExcludesEndpoint_RoutedToTheOthersOnly()
    {
        using var mesh = Attach(Config());
        mesh.Runtime.AddExtension(new AvoidHeaderFilter());
        using var client = new HttpClient();

        var bodies = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "http://orders/api/x");
            request.Headers.Add(AvoidHeaderFilter.Header, "v1");
            using var response = await client.SendAsync(request);
            bodies.Add(await response.Content.ReadAsStringAsync());
        }

        Assert.All(bodies, body => Assert.Equal("orders-v2", body));
        Assert.Equal(0, _v1.Requests);
    }

    [Fact]
    public async Task Get_PickObserver_ToldPickedEndpoint_BeforeTheRequestLeaves()
    {
        using var mesh = Attach(Config());
        mesh.Runtime.AddExtension(new PickStamper());
        using var client = new HttpClient();

        using var response = await client.GetAsync("http://orders/api/x");

        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(body == "orders-v1" ? "v1" : "v2", response.Headers.GetValues($"x-seen-{PickStamper.Header}").Single());
    }

    [Fact]
    public async Task Get_ThrowingRouteFilterAndPickObserver_RequestServed_FailuresCounted()
    {
        using var mesh = Attach(Config());
        using var failures = new MetricRecorder(mesh.Runtime.Telemetry.Meter, "mesh.extension.failures");
        mesh.Runtime.AddExtension(new ThrowingFilter());
        mesh.Runtime.AddExtension(new ThrowingPickObserver());
        mesh.Runtime.AddExtension(new AvoidHeaderFilter());
        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://orders/api/x");
        request.Headers.Add(AvoidHeaderFilter.Header, "v2");

        using var response = await client.SendAsync(request);

        // The throwing filter's partial exclusions are dropped, the working filter after it still applies.
        Assert.Equal("orders-v1", await response.Content.ReadAsStringAsync());
        Assert.Equal(2, failures.Sum("mesh.extension.failures"));
        Assert.Equal(1, mesh.Outcomes.Count(OutcomeKind.Success));
    }

    /// <summary>Excludes the endpoints whose <c>version</c> tag the request names in <c>x-avoid</c>.</summary>
    private sealed class AvoidHeaderFilter : IRouteFilter
    {
        public const string Header = "x-avoid";

        public string Name => "avoidHeader";

        public int Order => 2;

        public bool Excludes<TRequest>(MeshService service, Endpoint endpoint, ref TRequest request)
            where TRequest : struct, IRouteRequest
            => request.TryGetHeader(Header, out var avoided) && endpoint.Tags.TryGetValue("version", out var version) && avoided.SequenceEqual(version);
    }

    /// <summary>Excludes the first endpoint, then throws.</summary>
    private sealed class ThrowingFilter : IRouteFilter
    {
        public string Name => "throwingFilter";

        public int Order => 1;

        public bool Excludes<TRequest>(MeshService service, Endpoint endpoint, ref TRequest request)
            where TRequest : struct, IRouteRequest
            => endpoint == service.Endpoints[0] ? true : throw new InvalidOperationException("filter fails on purpose");
    }

    private sealed class PickStamper : IPickObserver
    {
        public const string Header = "x-picked";

        public string Name => "pickStamper";

        public int Order => 0;

        public void OnPicked(in RouteDecision decision, HttpRequestMessage request) => request.Headers.Add(Header, decision.Endpoint!.Id);
    }

    private sealed class ThrowingPickObserver : IPickObserver
    {
        public string Name => "throwingPickObserver";

        public int Order => 0;

        public void OnPicked(in RouteDecision decision, HttpRequestMessage request) => throw new InvalidOperationException("pick observer fails on purpose");
    }

    /// <summary>Subscribes to HttpClient's listener with no filter, so every event is raised, and records their names.</summary>
    private sealed class GreedySubscriber : IObserver<DiagnosticListener>, IObserver<KeyValuePair<string, object?>>, IDisposable
    {
        private readonly IDisposable _all;
        private readonly List<IDisposable> _subscriptions = [];
        private readonly ConcurrentQueue<string> _events = new();

        public GreedySubscriber() => _all = DiagnosticListener.AllListeners.Subscribe(this);

        public IReadOnlyCollection<string> Events => _events;

        public void OnNext(DiagnosticListener value)
        {
            if (value.Name == "HttpHandlerDiagnosticListener")
            {
                lock (_subscriptions)
                {
                    _subscriptions.Add(value.Subscribe(this));
                }
            }
        }

        public void OnNext(KeyValuePair<string, object?> value) => _events.Enqueue(value.Key);

        public void OnError(Exception error)
        {
        }

        public void OnCompleted()
        {
        }

        public void Dispose()
        {
            _all.Dispose();
            lock (_subscriptions)
            {
                _subscriptions.ForEach(s => s.Dispose());
            }
        }
    }

    /// <summary>A runtime on the given rules, attached to the process's listener and ambient, with its outcomes recorded.</summary>
    private sealed class AttachedRuntime : IDisposable
    {
        private readonly IDisposable _attachment;
        private readonly IDisposable _scope;

        public AttachedRuntime(string json)
        {
            var errors = Runtime.ApplyJson(json, "test");
            Assert.True(errors.Count == 0, string.Join("; ", errors));
            Runtime.AddObserver(Outcomes);
            _attachment = MeshAgent.Attach(Runtime);
            _scope = MeshAgent.UseRuntime(Runtime);
        }

        public MeshRuntime Runtime { get; } = new();

        public OutcomeRecorder Outcomes { get; } = new();

        public void Dispose()
        {
            _scope.Dispose();
            _attachment.Dispose();
            Runtime.Dispose();
        }
    }
}
