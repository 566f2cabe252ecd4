using System.CommandLine;
using Mesh.Providers.Etcd;
using System.Text.Json;
using Spectre.Console;

namespace Mesh.Cli;

/// <summary>Options every verb understands: where etcd is, the key prefix, and machine-readable output.</summary>
internal sealed class GlobalOptions
{
    private static readonly JsonSerializerOptions JsonOutput = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public Option<string> Endpoints { get; } = new("--endpoints")
    {
        Description = "etcd endpoints, comma-separated (env MESH_ETCD_ENDPOINTS; default http://127.0.0.1:2379)",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable(MeshEnvironment.EtcdEndpoints) is { Length: > 0 } e ? e : "http://127.0.0.1:2379",
    };

    public Option<string> Prefix { get; } = new("--prefix")
    {
        Description = "etcd key prefix (env MESH_ETCD_PREFIX; default /mesh)",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable(MeshEnvironment.EtcdPrefix) is { Length: > 0 } p ? p : EtcdKeys.DefaultPrefix,
    };

    public Option<bool> Json { get; } = new("--json") { Description = "Write JSON instead of tables, for scripts", Recursive = true };

    public void AddTo(Command root)
    {
        root.Options.Add(Endpoints);
        root.Options.Add(Prefix);
        root.Options.Add(Json);
    }

    public EtcdMeshStore OpenStore(ParseResult parse) => new(parse.GetValue(Endpoints)!, parse.GetValue(Prefix)!);

    public static void WriteJson<T>(TextWriter output, T value) => output.WriteLine(JsonSerializer.Serialize(value, JsonOutput));

    /// <summary>A console over <paramref name="output"/>: colors on a terminal, plain text when redirected.</summary>
    public static IAnsiConsole Console(TextWriter output)
    {
        var terminal = ReferenceEquals(output, System.Console.Out) && !System.Console.IsOutputRedirected;
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
        });
        if (!terminal)
        {
            // Redirected output has no width; wrap tables at a width that keeps addresses on one line.
            console.Profile.Width = 160;
        }

        return console;
    }
}
