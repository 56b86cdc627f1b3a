using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using SharpGpt.Inference;

namespace SharpGpt;

/// <summary>
/// Generates for many callers at once by decoding their sequences together (continuous batching): each token step
/// is one forward over every active sequence, each with its own KV cache and position, so the weights are read once
/// per step for all of them. Made by <see cref="GptModel.CreateBatchGenerator"/>; a server hands each request's
/// prompt to <see cref="GenerateAsync"/>.
/// <para>Sequences join and leave between steps. The prompts of the sequences joining at a step are read in one
/// forward over all their tokens (each attending over its own cache), and the others wait that long; they then decode
/// with the batch. Up to
/// <see cref="MaxBatchSize"/> sequences decode at once; up to <see cref="MaxQueueLength"/> more wait, in order of
/// arrival, for a free place; beyond that <see cref="GenerateAsync"/> throws <see cref="GenerationQueueFullException"/>.
/// A generation whose caller cancels it or stops enumerating leaves the batch before the next step, freeing its
/// place for the next in the queue; one that is still queued leaves the queue at once.</para>
/// <para>Each sequence is generated as <see cref="GptModel.GenerateUpdatesAsync"/> generates it alone: the same
/// sampling (its own seed), stop sequences, end-of-text token and sliding past the block size. On the CPU its
/// tokens are exactly those of a decode alone (at temperature 0, or with the same seed): a row's arithmetic does
/// not depend on the other rows of the batch. On a GPU, cuBLAS may pick another kernel for a batch than for one
/// row, so a logit may differ in its last bits and a near tie may go the other way.</para>
/// <para>The generator decodes on a thread of its own. It holds the model's turn while it has sequences to decode
/// and gives it back when it has none, so the model's other operations (<see cref="GptModel.Generate(string,
/// GenerationOptions?, CancellationToken)"/>, <see cref="GptModel.Save"/>, training) wait while it is busy and run
/// when it is idle. Its KV caches (2 x layers x block size x channels floats per place, allocated when a place is
/// first used) stay until it is disposed. Dispose it before the model; disposing it ends the generations under way
/// with <see cref="ObjectDisposedException"/>.</para>
/// </summary>
public sealed class GptBatchGenerator : IDisposable
{
    private readonly GptModel _model;
    private readonly object _lock = new();
    private readonly LinkedList<Request> _queue = new();
    private readonly List<Request> _active = [];
    private readonly Stack<int> _freeSlots = new();
    private readonly Thread _thread;
    private readonly CancellationTokenSource _shutdown = new();
    private BatchKvCacheDecoder? _decoder;
    private Exception? _fault;
    private bool _disposed;

    internal GptBatchGenerator(GptModel model, int maxBatchSize, int maxQueueLength)
    {
        _model = model;
        MaxBatchSize = maxBatchSize;
        MaxQueueLength = maxQueueLength;
        for (int slot = maxBatchSize - 1; slot >= 0; slot--)
        {
            _freeSlots.Push(slot);
        }

        _thread = new Thread(Loop) { IsBackground = true, Name = "SharpGPT batch decoding" };
        _thread.Start();
    }

    /// <summary>The most sequences decoded together.</summary>
    public int MaxBatchSize { get; }

    /// <summary>The most generations waiting for a place in the batch.</summary>
    public int MaxQueueLength { get; }

    /// <summary>The generations decoding now.</summary>
    public int ActiveCount
    {
        get
        {
            lock (_lock)
            {
                return _active.Count;
            }
        }
    }

    /// <summary>The generations waiting for a place in the batch.</summary>
    public int QueuedCount
    {
        get
        {
            lock (_lock)
            {
                return _queue.Count;
            }
        }
    }

    /// <summary>Tests: the most sequences one step has decoded together so far.</summary>
    internal int LargestStep { get; private set; }

    /// <summary>Tests: a pause after each step, so a generation lasts long enough to be watched and stopped.</summary>
    internal TimeSpan StepDelay { get; set; }

    /// <summary>Generates a continuation of a prompt given as token ids, decoded in the batch, and streams it as
    /// <see cref="GptModel.GenerateUpdatesAsync"/> does: pieces of text in whole characters (never part of a stop
    /// sequence), then a last update whose <see cref="GenerationUpdate.Result"/> holds the tokens, the counts and the
    /// finish reason. The generation is queued when the enumeration starts; ending the enumeration early (a break, a
    /// cancellation) takes it out of the batch before the next step.</summary>
    /// <param name="promptTokens">At least one token id, each in the model's vocabulary (<see cref="GptModel.EncodePrompt"/>,
    /// <see cref="GptModel.EncodeChatPrompt"/>). A prompt longer than the block size keeps its last block of tokens.</param>
    /// <param name="options">Length, sampling and stop conditions; the defaults when null.</param>
    /// <param name="cancellationToken">Ends the generation (the enumeration then throws <see cref="OperationCanceledException"/>).</param>
    /// <returns>The updates.</returns>
    /// <exception cref="ArgumentException">The prompt is empty or holds an id outside the vocabulary, or an option is out of range.</exception>
    /// <exception cref="GenerationQueueFullException"><see cref="MaxBatchSize"/> generations are decoding and <see cref="MaxQueueLength"/> are waiting.</exception>
    /// <exception cref="ObjectDisposedException">The generator, or its model, was disposed.</exception>
    public async IAsyncEnumerable<GenerationUpdate> GenerateAsync(IReadOnlyList<int> promptTokens, GenerationOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        int[] prompt = _model.CheckPrompt(promptTokens);
        options ??= new GenerationOptions();
        options.Validate();
        cancellationToken.ThrowIfCancellationRequested();
        var request = Enqueue(prompt, options);
        request.Registration = cancellationToken.Register(static r => ((Request)r!).Owner.Abandon((Request)r!), request);
        try
        {
            bool finished = false;
            await foreach (var update in request.Updates.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                finished |= update.Result is not null;
                yield return update;
            }

            if (!finished)
            {
                request.Failure?.Throw();
                throw new OperationCanceledException(cancellationToken);
            }
        }
        finally
        {
            await request.Registration.DisposeAsync().ConfigureAwait(false);
            Abandon(request);
        }
    }

    /// <summary>Ends the generations under way and queued (they throw <see cref="ObjectDisposedException"/>), stops the
    /// decoding thread and frees the KV caches. The model stays open.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            Monitor.PulseAll(_lock);
        }

        _shutdown.Cancel();
        _thread.Join();
        lock (_lock)
        {
            var gone = new ObjectDisposedException(nameof(GptBatchGenerator), "The batch generator was disposed while the generation was under way.");
            foreach (var request in _queue.ToList().Concat(_active.ToList()))
            {
                End(request, ExceptionDispatchInfo.Capture(gone));
            }
        }

        if (_decoder is not null && !_model.IsDisposed)
        {
            try
            {
                using var turn = _model.TakeTurn(CancellationToken.None);
                _decoder.Dispose();
            }
            catch (ObjectDisposedException)
            {
                // The model went first, and its memory with it.
            }
        }

        _shutdown.Dispose();
    }

    private Request Enqueue(int[] prompt, GenerationOptions options)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_fault is not null)
            {
                throw new ObjectDisposedException(nameof(GptBatchGenerator), $"The batch generator stopped: {_fault.Message}");
            }

            if (_queue.Count + _active.Count >= MaxBatchSize + MaxQueueLength)
            {
                throw new GenerationQueueFullException(MaxBatchSize, MaxQueueLength);
            }

            var request = new Request(this, prompt, options);
            request.Node = _queue.AddLast(request);
            Monitor.Pulse(_lock);
            return request;
        }
    }

    /// <summary>The caller is gone (cancelled, or stopped enumerating): a queued generation leaves the queue now, an
    /// active one before the next step.</summary>
    private void Abandon(Request request)
    {
        lock (_lock)
        {
            if (request.Completed)
            {
                return;
            }

            request.Abandoned = true;
            if (request.Node is not null)
            {
                End(request, null);
            }

            Monitor.Pulse(_lock);
        }
    }

    private void Loop()
    {
        GptModel.Turn? turn = null;
        try
        {
            while (true)
            {
                lock (_lock)
                {
                    DropAbandoned();
                    while (!_disposed && _queue.Count == 0 && _active.Count == 0)
                    {
                        // Idle: the model is free for its other operations until work arrives.
                        turn?.Dispose();
                        turn = null;
                        Monitor.Wait(_lock);
                        DropAbandoned();
                    }

                    if (_disposed)
                    {
                        return;
                    }
                }

                if (turn is null)
                {
                    turn = _model.TakeTurn(_shutdown.Token);
                    _decoder ??= new BatchKvCacheDecoder(_model.Network, MaxBatchSize);
                }

                Admit(_decoder!);
                Step(_decoder!);
                if (StepDelay > TimeSpan.Zero)
                {
                    Thread.Sleep(StepDelay);
                }
            }
        }
        catch (OperationCanceledException) when (_shutdown.IsCancellationRequested)
        {
            // Disposed while waiting for the model.
        }
        catch (Exception e)
        {
            // The model was disposed, or the decoder could not be allocated: every generation ends with the failure.
            lock (_lock)
            {
                _fault = e;
                foreach (var request in _queue.ToList().Concat(_active.ToList()))
                {
                    End(request, ExceptionDispatchInfo.Capture(e));
                }
            }
        }
        finally
        {
            turn?.Dispose();
        }
    }

    /// <summary>Moves queued generations into free places, in order of arrival: their prompts are read in one forward
    /// (as many as one forward takes), and each draws its first token.</summary>
    private void Admit(BatchKvCacheDecoder decoder)
    {
        var tokenizer = _model.Tokenizer;
        int vocab = _model.Config.VocabSize, maxT = _model.Config.MaxSeqLen;
        var group = new List<Request>();
        while (true)
        {
            group.Clear();
            lock (_lock)
            {
                int rows = 0;
                while (_queue.First is { } first && _freeSlots.Count > 0)
                {
                    int length = Math.Min(first.Value.Prompt.Length, maxT);
                    if (rows + length > decoder.Rows)
                    {
                        break;
                    }

                    var request = first.Value;
                    _queue.RemoveFirst();
                    request.Node = null;
                    request.Slot = _freeSlots.Pop();
                    _active.Add(request);
                    group.Add(request);
                    rows += length;
                }
            }

            if (group.Count == 0)
            {
                return;
            }

            var reading = new List<Request>(group.Count);
            foreach (var request in group)
            {
                try
                {
                    var updates = request.Updates.Writer;
                    request.Sequence = new GenerationSequence(tokenizer, request.Options, vocab, text => updates.TryWrite(new GenerationUpdate(text, null)));
                    if (request.Options.MaxTokens == 0)
                    {
                        Finish(request);
                    }
                    else if (!request.Abandoned)
                    {
                        reading.Add(request); // an abandoned one is dropped before the next step, unread
                    }
                }
                catch (Exception e)
                {
                    Fail(request, e);
                }
            }

            if (reading.Count == 0)
            {
                continue;
            }

            try
            {
                decoder.Prefill([.. reading.Select(r => r.Slot)], [.. reading.Select(r => r.Prompt)]);
            }
            catch (Exception e)
            {
                foreach (var request in reading)
                {
                    Fail(request, e);
                }

                continue;
            }

            for (int i = 0; i < reading.Count; i++)
            {
                try
                {
                    if (!reading[i].Sequence!.Next(decoder.Logits(i)))
                    {
                        Finish(reading[i]);
                    }
                }
                catch (Exception e)
                {
                    Fail(reading[i], e);
                }
            }
        }
    }

    /// <summary>One token for every active sequence: one forward over them all, then each draws its next token.</summary>
    private void Step(BatchKvCacheDecoder decoder)
    {
        // Only this thread changes _active, so it reads it without the lock.
        var batch = _active.Where(r => r.Sequence is { Ended: false } && !r.Abandoned).ToArray();
        if (batch.Length == 0)
        {
            return;
        }

        var slots = new int[batch.Length];
        var tokens = new int[batch.Length];
        for (int i = 0; i < batch.Length; i++)
        {
            slots[i] = batch[i].Slot;
            tokens[i] = batch[i].Sequence!.LastToken;
        }

        LargestStep = Math.Max(LargestStep, batch.Length);
        try
        {
            decoder.Append(slots, tokens);
        }
        catch (Exception e)
        {
            foreach (var request in batch)
            {
                Fail(request, e);
            }

            return;
        }

        for (int i = 0; i < batch.Length; i++)
        {
            var request = batch[i];
            try
            {
                if (!request.Sequence!.Next(decoder.Logits(i)))
                {
                    Finish(request);
                }
            }
            catch (Exception e)
            {
                Fail(request, e);
            }
        }
    }

    private void Finish(Request request)
    {
        var result = request.Sequence!.Finish(Math.Min(request.Prompt.Length, _model.Config.MaxSeqLen));
        request.Updates.Writer.TryWrite(new GenerationUpdate("", result));
        lock (_lock)
        {
            End(request, null);
        }
    }

    private void Fail(Request request, Exception e)
    {
        lock (_lock)
        {
            End(request, ExceptionDispatchInfo.Capture(e));
        }
    }

    /// <summary>Ends the generations whose callers are gone; their places are free for the next step. Under the lock.</summary>
    private void DropAbandoned()
    {
        for (int i = _active.Count - 1; i >= 0; i--)
        {
            if (_active[i].Abandoned)
            {
                End(_active[i], null);
            }
        }
    }

    /// <summary>Takes a generation out of the queue or the batch, frees its place and closes its stream. Under the lock.</summary>
    private void End(Request request, ExceptionDispatchInfo? failure)
    {
        if (request.Completed)
        {
            return;
        }

        request.Completed = true;
        request.Failure = failure;
        if (request.Node is not null)
        {
            _queue.Remove(request.Node);
            request.Node = null;
        }
        else if (_active.Remove(request))
        {
            _freeSlots.Push(request.Slot);
        }

        request.Updates.Writer.TryComplete();
    }

    /// <summary>One generation, from its queueing to its end.</summary>
    private sealed class Request(GptBatchGenerator owner, int[] prompt, GenerationOptions options)
    {
        public GptBatchGenerator Owner { get; } = owner;

        public int[] Prompt { get; } = prompt;

        public GenerationOptions Options { get; } = options;

        public Channel<GenerationUpdate> Updates { get; } = Channel.CreateUnbounded<GenerationUpdate>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });

        public CancellationTokenRegistration Registration { get; set; }

        /// <summary>Its place in the queue while it waits.</summary>
        public LinkedListNode<Request>? Node { get; set; }

        public int Slot { get; set; } = -1;

        public GenerationSequence? Sequence { get; set; }

        public volatile bool Abandoned;

        public bool Completed { get; set; }

        public ExceptionDispatchInfo? Failure { get; set; }
    }
}
