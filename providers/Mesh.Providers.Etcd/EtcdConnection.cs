using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace Mesh.Providers.Etcd;

/// <summary>
/// gRPC channels to the etcd members, one at a time: a failing member hands over to the next. Adds the
/// authentication token when a user is configured.
/// </summary>
internal sealed class EtcdConnection : IDisposable
{
    /// <summary>
    /// Largest message read from etcd. Range pages are bounded by key count (and read again in halves when one is
    /// refused), so this bounds watch responses: etcd caps a request (a transaction's puts) at 1.5 MiB by default,
    /// and a response may batch several revisions' events.
    /// </summary>
    public const int MaxReceiveMessageSize = 64 * 1024 * 1024;

    private readonly EtcdProviderOptions _options;
    private readonly GrpcChannel[] _channels;
    private int _current;
    private string? _token;

    public EtcdConnection(EtcdProviderOptions options)
    {
        if (options.Endpoints.Count == 0)
        {
            throw new ArgumentException("at least one etcd endpoint is required", nameof(options));
        }

        _options = options;
        _channels = [.. options.Endpoints.Select(endpoint => GrpcChannel.ForAddress(endpoint, new GrpcChannelOptions { HttpHandler = CreateHandler(options), MaxReceiveMessageSize = MaxReceiveMessageSize }))];
    }

    public string Current => _options.Endpoints[_current];

    public KV.KVClient Kv => new(_channels[_current]);

    public Watch.WatchClient Watch => new(_channels[_current]);

    public Lease.LeaseClient Lease => new(_channels[_current]);

    /// <summary>Moves on to the next member after a failure.</summary>
    public void Rotate()
    {
        _current = (_current + 1) % _channels.Length;
        _token = null;
    }

    /// <summary>Call metadata, with a fresh token when authentication is on.</summary>
    public async Task<Metadata> HeadersAsync(CancellationToken cancellationToken)
    {
        var headers = new Metadata();
        if (_options.Username is not { } user)
        {
            return headers;
        }

        if (_token is null)
        {
            var auth = new Auth.AuthClient(_channels[_current]);
            var response = await auth.AuthenticateAsync(new AuthenticateRequest { Name = user, Password = _options.Password ?? "" },
                deadline: DateTime.UtcNow + _options.CallTimeout, cancellationToken: cancellationToken);
            _token = response.Token;
        }

        headers.Add("token", _token);
        return headers;
    }

    /// <summary>The end of the key range that covers every key starting with <paramref name="prefix"/>.</summary>
    public static ByteString RangeEnd(string prefix)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(prefix);
        bytes[^1]++;
        return ByteString.CopyFrom(bytes);
    }

    public void Dispose()
    {
        foreach (var channel in _channels)
        {
            channel.Dispose();
        }
    }

    private static SocketsHttpHandler CreateHandler(EtcdProviderOptions options)
    {
        var handler = new SocketsHttpHandler
        {
            // Keep-alive pings notice a member that died silently, so the watch moves on instead of hanging.
            KeepAlivePingDelay = TimeSpan.FromSeconds(5),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(5),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
            ConnectTimeout = options.CallTimeout,
            EnableMultipleHttp2Connections = true,
        };
        if (options.CaFile is not null || options.CertFile is not null)
        {
            handler.SslOptions = CreateSslOptions(options);
        }

        return handler;
    }

    private static SslClientAuthenticationOptions CreateSslOptions(EtcdProviderOptions options)
    {
        var ssl = new SslClientAuthenticationOptions();
        if (options.CertFile is { } certFile)
        {
            var files = options.KeyFile is { } keyFile ? $"{certFile} with key {keyFile}" : certFile;
            ssl.ClientCertificates = [Load("client certificate", files, () => X509Certificate2.CreateFromPemFile(certFile, options.KeyFile))];
        }

        if (options.CaFile is { } caFile)
        {
            var ca = Load("CA file", caFile, () => X509CertificateLoader.LoadCertificateFromFile(caFile));
            ssl.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            {
                if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
                {
                    return false;
                }

                // Trust exactly the configured CA, not the machine's store.
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(ca);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(new X509Certificate2(certificate));
            };
        }

        return ssl;
    }

    // OpenSSL's reasons ("BIO routines::no such file") name neither the file nor what it is for; the log line that
    // reports the failed start must say which setting to fix.
    private static X509Certificate2 Load(string what, string path, Func<X509Certificate2> load)
    {
        try
        {
            return load();
        }
        catch (CryptographicException ex)
        {
            throw new CryptographicException($"etcd {what} {path} could not be loaded: {ex.Message}", ex);
        }
    }
}
