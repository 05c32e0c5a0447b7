namespace Dynamo.Worker.Scheduling;

/// <summary>Building one step: running sequences first (with preemption), then admission from the waiting queue.</summary>
public sealed partial class Scheduler
{
    /// <summary>Gives every running sequence its chunk or decode token; returns whether anything was preempted.</summary>
    private bool ScheduleRunning(StepBatch batch, List<SchedulerSequence> scheduled, ref int budget)
    {
        // Best first, so preemption victims (taken from the end) are never ones already in this batch.
        _running.Sort(SchedulerSequence.ByPriority);
        var preempted = false;
        for (var i = 0; i < _running.Count && budget > 0; i++)
        {
            var sequence = _running[i];
            if (sequence.IsPrefilling)
            {
                budget -= AddPrefill(batch, scheduled, sequence, budget);
                continue;
            }

            var appended = false;
            while (!(appended = _kv.TryAppend(sequence.Id, [sequence.PendingToken])))
            {
                var victim = _running[^1];
                Preempt(victim);
                preempted = true;
                if (ReferenceEquals(victim, sequence))
                {
                    break;
                }
            }

            if (!appended)
            {
                break;
            }

            Add(batch, scheduled, sequence, new[] { sequence.PendingToken }, wantLogits: true, decode: true);
            budget--;
        }

        return preempted;
    }

    private void AdmitWaiting(StepBatch batch, List<SchedulerSequence> scheduled, ref int budget)
    {
        while (budget > 0 && _running.Count < _options.MaxNumSeqs && _waiting.Count > 0)
        {
            var sequence = _waiting.Min!;
            if (sequence.Swapped is { } swapped)
            {
                if (!TrySwapIn(batch, scheduled, sequence, swapped, ref budget))
                {
                    return;
                }

                continue;
            }

            var allocation = _kv.TryAllocate(sequence.Id, sequence.Prompt, sequence.Request.LoraAdapter);
            if (allocation is null)
            {
                // Head-of-line: a later, smaller request must not overtake a higher-priority one.
                return;
            }

            _waiting.Remove(sequence);
            Interlocked.Decrement(ref _queued);
            sequence.Computed = allocation.CachedTokens;
            if (sequence.CachedTokens < 0)
            {
                sequence.CachedTokens = allocation.CachedTokens;
                CountPrefixLookup(sequence.Prompt.Length, allocation.CachedTokens);
                _engine.Admit(sequence.Id, sequence.Prompt, sequence.Request.Sampling);
                sequence.Computed = ImportRemoteKv(sequence, allocation);
            }

            _running.Add(sequence);
            budget -= AddPrefill(batch, scheduled, sequence, budget);
        }
    }

    private int AddPrefill(StepBatch batch, List<SchedulerSequence> scheduled, SchedulerSequence sequence, int budget)
    {
        var chunk = Math.Min(sequence.Prompt.Length - sequence.Computed, budget);
        var tokens = sequence.Prompt.AsMemory(sequence.Computed, chunk);
        Add(batch, scheduled, sequence, tokens, wantLogits: sequence.Computed + chunk == sequence.Prompt.Length, decode: false);
        return chunk;
    }

    private void Add(StepBatch batch, List<SchedulerSequence> scheduled, SchedulerSequence sequence, ReadOnlyMemory<int> tokens, bool wantLogits, bool decode)
    {
        var item = new StepItem(sequence.Id, tokens, sequence.Computed, _kv.GetBlockTable(sequence.Id).ToArray(), wantLogits, sequence.Request.Sampling)
        {
            Suppressed = wantLogits && sequence.Generated.Count < sequence.Request.MinTokens ? sequence.EndTokens : null,
        };
        batch.Add(item, decode);
        scheduled.Add(sequence);
    }

    private void OnToken(SchedulerSequence sequence, int token, SampledLogprobs? logprobs)
    {
        if (token < 0)
        {
            throw new InvalidOperationException($"The engine produced no token for sequence {sequence.Id} although logits were requested.");
        }

        sequence.Generated.Add(token);
        var request = sequence.Request;
        SchedulerFinishReason? finish =
            sequence.Generated.Count > request.MinTokens && sequence.IsEndToken(token) ? SchedulerFinishReason.Stop
            : sequence.Generated.Count >= request.MaxTokens ? SchedulerFinishReason.Length
            : null;
        sequence.Output.Writer.TryWrite(new SchedulerOutput(
            token, finish, sequence.Usage.CachedTokens, sequence.Usage, logprobs?.Logprob, logprobs?.Top));
        if (finish is not null)
        {
            _kv.Free(sequence.Id);
            _engine.Release(sequence.Id);
            _running.Remove(sequence);
            sequence.Complete();
        }
    }

    private void Preempt(SchedulerSequence victim)
    {
        _running.Remove(victim);
        if (_options.Preemption == PreemptionMode.Swap && _kv.TrySwapOut(victim.Id, victim.Computed) is { } swapped)
        {
            victim.Swapped = swapped;
            _metrics.Preempted(swap: true);
            LogSwappedOut(victim.Request.Id, victim.Generated.Count, swapped.Blocks);
        }
        else
        {
            _kv.Free(victim.Id);
            victim.ResetForRecompute();
            _metrics.Preempted(swap: false);
            LogPreempted(victim.Request.Id, victim.Generated.Count);
        }

        _waiting.Add(victim);
        Interlocked.Increment(ref _queued);
    }

    /// <summary>
    /// Resumes a swapped sequence where it stopped: its K/V restored, the rest of its prefill or its next decode
    /// token scheduled in this step. False (nothing changed) when G1 cannot hold it yet.
    /// </summary>
    private bool TrySwapIn(StepBatch batch, List<SchedulerSequence> scheduled, SchedulerSequence sequence, KvCache.KvSwappedSequence swapped, ref int budget)
    {
        var decoding = !sequence.IsPrefilling;
        if (!_kv.TrySwapIn(sequence.Id, swapped, reserveTokens: decoding ? 1 : 0))
        {
            return false;
        }

        _waiting.Remove(sequence);
        Interlocked.Decrement(ref _queued);
        sequence.Swapped = null;
        _running.Add(sequence);
        if (!decoding)
        {
            budget -= AddPrefill(batch, scheduled, sequence, budget);
            return true;
        }

        if (!_kv.TryAppend(sequence.Id, [sequence.PendingToken]))
        {
            throw new InvalidOperationException($"Sequence {sequence.Id} was swapped in with room for its next token, yet appending it failed.");
        }

        Add(batch, scheduled, sequence, new[] { sequence.PendingToken }, wantLogits: true, decode: true);
        budget--;
        return true;
    }
}
