using System.CommandLine;

namespace Mesh.Cli.Commands;

/// <summary><c>meshctl validate FILE [--kind mesh|policy|endpoint|config]</c>: the runtime's parser and validator, offline.</summary>
internal static class ValidateCommand
{
    public static Command Create(GlobalOptions globals, TextWriter output, TextWriter error)
    {
        var file = new Argument<string>("file") { Description = "The document to check, or - for standard input" };
        var kind = new Option<DocumentKind>("--kind") { Description = "What the file holds", DefaultValueFactory = _ => DocumentKind.Mesh };
        var command = new Command("validate", "Check a document exactly as the runtime would; exit code 1 and every error (path: reason) when invalid.") { file, kind };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var path = parse.GetValue(file)!;
            var errors = DocumentValidation.Validate(parse.GetValue(kind), await DocumentValidation.ReadAsync(path, cancellationToken).ConfigureAwait(false), out _);
            if (parse.GetValue(globals.Json))
            {
                GlobalOptions.WriteJson(output, new { file = path, valid = errors.Count == 0, errors });
            }
            else if (errors.Count == 0)
            {
                output.WriteLine($"{path}: valid");
            }
            else
            {
                DocumentValidation.Report(error, path, errors);
            }

            return errors.Count == 0 ? 0 : 1;
        });
        return command;
    }
}
