namespace Mesh.Testing;

/// <summary>A file in a fresh temporary folder, deleted with the folder on dispose.</summary>
public sealed class TempFile : IDisposable
{
    /// <summary>Creates the folder and names the file (not yet written).</summary>
    public TempFile(string name = "mesh.json")
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("mesh-test-").FullName;
        Path = System.IO.Path.Combine(Directory, name);
    }

    /// <summary>The folder.</summary>
    public string Directory { get; }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>Replaces the content atomically, as careful editors do.</summary>
    public void Write(string content)
    {
        var staging = Path + ".tmp";
        File.WriteAllText(staging, content);
        File.Move(staging, Path, overwrite: true);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A watcher may still hold the folder for a moment; the OS cleans temp folders anyway.
        }
    }
}
