using Mesh.Runtime;

namespace Mesh.Testing;

/// <summary>An outcome observer that keeps the kind of every call outcome a runtime reports, in order.</summary>
public sealed class OutcomeRecorder : IOutcomeObserver
{
    private readonly List<OutcomeKind> _kinds = [];

    /// <summary>The kinds reported so far, in order.</summary>
    public OutcomeKind[] Kinds
    {
        get
        {
            lock (_kinds)
            {
                return [.. _kinds];
            }
        }
    }

    /// <summary>How many outcomes of <paramref name="kind"/> were reported.</summary>
    public int Count(OutcomeKind kind) => Array.FindAll(Kinds, k => k == kind).Length;

    /// <inheritdoc />
    public void OnOutcome(in CallOutcome outcome)
    {
        // Outcomes are reported from the threads that complete the calls.
        lock (_kinds)
        {
            _kinds.Add(outcome.Kind);
        }
    }
}
