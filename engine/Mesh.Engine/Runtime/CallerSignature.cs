using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Mesh.Runtime;

/// <summary>
/// The signature that makes a caller header trustworthy: <c>{unix seconds}.{base64url HMAC-SHA256}</c> over the
/// caller name and the timestamp, with the mesh's <c>callerSigningKey</c>. A client outside the mesh cannot produce
/// it, and a captured one expires after <see cref="MaxAge"/>.
/// </summary>
public sealed class CallerSignature
{
    /// <summary>The shortest key accepted.</summary>
    public const int MinimumKeyLength = 16;

    /// <summary>How far a signature's timestamp may lie from the receiver's clock, either way.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(5);

    private readonly byte[] _key;
    private readonly TimeProvider _time;
    private (long Second, string Caller, string Value) _cached;

    /// <summary>Creates a signer and verifier for <paramref name="key"/>.</summary>
    public CallerSignature(string key, TimeProvider time)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        _key = Encoding.UTF8.GetBytes(key);
        _time = time;
    }

    /// <summary>True when this signer uses <paramref name="key"/>, so a new snapshot may keep it (and its cache).</summary>
    internal bool HasKey(string key) => CryptographicOperations.FixedTimeEquals(_key, Encoding.UTF8.GetBytes(key));

    /// <summary>The header value that signs <paramref name="caller"/> now.</summary>
    public string Sign(string caller)
    {
        // One HMAC per second and caller, not per request: the signature only changes with the timestamp.
        var second = _time.GetUtcNow().ToUnixTimeSeconds();
        var cached = _cached;
        if (cached.Second == second && ReferenceEquals(cached.Caller, caller))
        {
            return cached.Value;
        }

        var value = string.Concat(second.ToString(CultureInfo.InvariantCulture), ".", Mac(caller, second));
        _cached = (second, caller, value);
        return value;
    }

    /// <summary>Whether <paramref name="signature"/> signs <paramref name="caller"/> and is recent.</summary>
    public bool Verify(string caller, string? signature)
    {
        var dot = signature?.IndexOf('.', StringComparison.Ordinal) ?? -1;
        if (dot <= 0 || !long.TryParse(signature.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out var second))
        {
            return false;
        }

        var age = _time.GetUtcNow().ToUnixTimeSeconds() - second;
        if (Math.Abs(age) > MaxAge.TotalSeconds)
        {
            return false;
        }

        var expected = Encoding.ASCII.GetBytes(Mac(caller, second));
        var actual = Encoding.ASCII.GetBytes(signature![(dot + 1)..]);
        return CryptographicOperations.FixedTimeEquals(expected, actual);
    }

    private string Mac(string caller, long second)
    {
        var data = Encoding.UTF8.GetBytes(string.Concat(caller, "\n", second.ToString(CultureInfo.InvariantCulture)));
        return Base64Url.EncodeToString(HMACSHA256.HashData(_key, data));
    }
}
