using System.Collections.Concurrent;

namespace SharpGpt.Data;

/// <summary>Turns input pieces into tokens on several threads and hands the results back in input order.
/// <para>One thread cuts the input into pieces (<see cref="InputPieces"/>); worker threads, each with its own
/// encoder and open Parquet file, decode and tokenize whole pieces; the caller takes the results in order. Only so
/// many pieces are cut but not yet taken (<see cref="MaxInFlightBytes"/> of their text, and a few per thread), so
/// memory stays bounded however large the input, and a reader that gets ahead simply waits.</para>
/// <para>The workers are threads of their own, not the thread pool's: Parquet.Net's reads are asynchronous, and
/// their continuations must not queue behind the encoding.</para></summary>
internal static class ParallelEncoding
{
    /// <summary>Text in flight, cut but not yet written, as two bytes a character; one piece is always allowed.</summary>
    public const long MaxInFlightBytes = 256L << 20;

    /// <summary>The batches, in order. A batch's tokens are valid until the loop moves on to the next one. An error
    /// reading or decoding the input surfaces after the batches before it, as the exception that was thrown.</summary>
    public static IEnumerable<EncodedBatch> Encode(IEnumerable<InputPiece> pieces, Func<IDocumentEncoder> newEncoder, int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        using var stop = new CancellationTokenSource();
        using var work = new BlockingCollection<Job>();
        using var ordered = new BlockingCollection<Job>();
        var inFlight = new InFlight(MaxInFlightBytes, 2 * threads + 2);
        var cutter = new Thread(() => Cut(pieces, work, ordered, inFlight, stop.Token)) { IsBackground = true, Name = "prepare: read" };
        var workers = Enumerable.Range(0, threads)
            .Select(i => new Thread(() => Work(work, newEncoder, stop.Token)) { IsBackground = true, Name = $"prepare: encode {i}" })
            .ToList();
        cutter.Start();
        workers.ForEach(w => w.Start());
        try
        {
            foreach (var job in ordered.GetConsumingEnumerable())
            {
                var batch = job.Result.Task.GetAwaiter().GetResult();
                try
                {
                    yield return batch;
                }
                finally
                {
                    batch.Tokens.Dispose();
                    inFlight.Release(job.Piece.Weight);
                }
            }
        }
        finally
        {
            // Done, or the caller stopped early or failed: stop the cutter and the workers and wait for them.
            stop.Cancel();
            inFlight.Cancel();
            cutter.Join();
            workers.ForEach(w => w.Join());
        }
    }

    private static void Cut(IEnumerable<InputPiece> pieces, BlockingCollection<Job> work, BlockingCollection<Job> ordered, InFlight inFlight, CancellationToken stop)
    {
        try
        {
            foreach (var piece in pieces)
            {
                if (!inFlight.Acquire(piece.Weight))
                {
                    return;
                }

                var job = new Job(piece);
                ordered.Add(job, stop);
                work.Add(job, stop);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            // The error takes its place in the order: the caller gets every batch before it first.
            var failed = new Job(null!);
            failed.Result.SetException(e);
            ordered.Add(failed, CancellationToken.None);
        }
        finally
        {
            work.CompleteAdding();
            ordered.CompleteAdding();
        }
    }

    private static void Work(BlockingCollection<Job> work, Func<IDocumentEncoder> newEncoder, CancellationToken stop)
    {
        var encoder = newEncoder();
        using var readers = new PieceReaders();
        try
        {
            foreach (var job in work.GetConsumingEnumerable(stop))
            {
                try
                {
                    job.Result.SetResult(Encode(job.Piece, encoder, readers));
                }
                catch (Exception e)
                {
                    job.Result.SetException(e);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    private static EncodedBatch Encode(InputPiece piece, IDocumentEncoder encoder, PieceReaders readers)
    {
        using var read = piece.Read(readers);
        if (read.Examples is { } examples)
        {
            return EncodeExamples(piece, examples, encoder.Tokenizer);
        }

        var documents = read.Documents;
        var tokens = new TokenBuffer((int)Math.Min(piece.Weight / 6 + documents.Count + 16, 1 << 26));
        try
        {
            var lengths = new int[documents.Count];
            for (var i = 0; i < documents.Count; i++)
            {
                var before = tokens.Count;
                encoder.Encode(documents[i].Span, startsDocument: i > 0 || !piece.ContinuesDocument, tokens);
                lengths[i] = tokens.Count - before;
            }

            return new EncodedBatch(piece, tokens, lengths);
        }
        catch
        {
            tokens.Dispose();
            throw;
        }
    }

    // Each example through the chat template, which tokenizes it piece by piece and says which tokens are trained on.
    private static EncodedBatch EncodeExamples(InputPiece piece, IReadOnlyList<ChatExample> examples, GptTokenizer tokenizer)
    {
        var ids = new List<int>();
        var trained = new List<bool>();
        var lengths = new int[examples.Count];
        var starts = new List<int>(examples.Count);
        for (var i = 0; i < examples.Count; i++)
        {
            int before = ids.Count;
            starts.Add(before);
            ChatTemplate.Transcript.Example(examples[i].Messages, tokenizer, ids, trained);
            lengths[i] = ids.Count - before;
        }

        var tokens = new TokenBuffer(ids.Count);
        tokens.AddRange(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(ids));
        var mask = new byte[ids.Count];
        for (var i = 0; i < mask.Length; i++)
        {
            mask[i] = trained[i] ? TokenMaskFormat.Trained : (byte)0;
        }

        foreach (var start in starts)
        {
            mask[start] |= TokenMaskFormat.StartsExample;
        }

        return new EncodedBatch(piece, tokens, lengths, mask);
    }

    /// <summary>A piece and, once a worker is done with it, its tokens or its error.</summary>
    private sealed class Job(InputPiece piece)
    {
        public InputPiece Piece => piece;

        public TaskCompletionSource<EncodedBatch> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>How much is cut but not yet taken: at most a budget of bytes (but always one piece) and a number of pieces.</summary>
    private sealed class InFlight(long maxBytes, int maxPieces)
    {
        private readonly object _lock = new();
        private long _bytes;
        private int _pieces;
        private bool _cancelled;

        /// <returns>False when cancelled while waiting.</returns>
        public bool Acquire(long bytes)
        {
            lock (_lock)
            {
                while (!_cancelled && _pieces > 0 && (_pieces >= maxPieces || _bytes + bytes > maxBytes))
                {
                    Monitor.Wait(_lock);
                }

                _bytes += bytes;
                _pieces++;
                return !_cancelled;
            }
        }

        public void Release(long bytes)
        {
            lock (_lock)
            {
                _bytes -= bytes;
                _pieces--;
                Monitor.PulseAll(_lock);
            }
        }

        public void Cancel()
        {
            lock (_lock)
            {
                _cancelled = true;
                Monitor.PulseAll(_lock);
            }
        }
    }
}
