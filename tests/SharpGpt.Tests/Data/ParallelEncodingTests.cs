using SharpGpt.Data;

namespace SharpGpt.Tests.Data;

public class ParallelEncodingTests
{
    [Fact]
    public void Pieces_encoded_on_several_threads_come_back_in_input_order()
    {
        var texts = Enumerable.Range(0, 600).Select(i => new string((char)('a' + (i % 26)), 1 + (i * 37 % 90))).ToList();
        var pieces = texts.Chunk(7).Select((chunk, i) => new TestPiece(chunk, bytesRead: i + 1));

        var tokens = new List<int>();
        var lengths = new List<int>();
        long lastBytes = 0;
        foreach (var batch in ParallelEncoding.Encode(pieces, () => new UnevenEncoder(), threads: 4))
        {
            tokens.AddRange(batch.Tokens.Span.ToArray());
            lengths.AddRange(batch.DocumentLengths);
            Assert.Equal(lastBytes + 1, batch.Piece.BytesRead);
            lastBytes = batch.Piece.BytesRead;
        }

        Assert.Equal(texts.SelectMany(t => t.Select(c => (int)c)), tokens);
        Assert.Equal(texts.Select(t => t.Length), lengths);
        Assert.Equal((600 + 6) / 7, lastBytes);
    }

    [Fact]
    public void An_error_cutting_the_input_surfaces_as_itself_after_the_pieces_before_it()
    {
        static IEnumerable<InputPiece> FailingAfter(int count)
        {
            for (var i = 0; i < count; i++)
            {
                yield return new TestPiece(["xxxxxxxxxx"], i);
            }

            throw new InvalidDataException("input.parquet: not a readable Parquet file");
        }

        var documents = 0;
        var error = Assert.Throws<InvalidDataException>(() =>
        {
            foreach (var batch in ParallelEncoding.Encode(FailingAfter(100), () => new UnevenEncoder(), threads: 2))
            {
                documents += batch.DocumentLengths.Length;
            }
        });

        Assert.Equal("input.parquet: not a readable Parquet file", error.Message);
        Assert.Equal(100, documents);
    }

    [Fact]
    public void An_error_decoding_a_piece_surfaces_as_itself_in_its_place()
    {
        var pieces = Enumerable.Range(0, 50).Select(i => i == 30 ? new TestPiece(null, i) : new TestPiece(["abc", "de"], i));

        var batches = 0;
        var error = Assert.Throws<InvalidDataException>(() =>
        {
            foreach (var _ in ParallelEncoding.Encode(pieces, () => new UnevenEncoder(), threads: 3))
            {
                batches++;
            }
        });

        Assert.Equal("piece 30: bad input", error.Message);
        Assert.Equal(30, batches);
    }

    [Fact]
    public void Stopping_early_ends_the_reader_and_the_workers()
    {
        var endless = Enumerable.Range(0, int.MaxValue).Select(i => new TestPiece(["abc"], i));

        var taken = ParallelEncoding.Encode(endless, () => new UnevenEncoder(), threads: 2).Take(3).Sum(b => b.DocumentLengths.Length);

        Assert.Equal(3, taken);
    }

    [Fact]
    public void The_gpt2_document_encoder_gives_the_tokenizers_ids_from_its_memo_too()
    {
        var encoder = new Gpt2DocumentEncoder();
        var plain = new Gpt2Tokenizer();
        string[] documents = [.. FineWebSample.Documents(20), "x" + new string('a', 200) + " aaaa", " \n\n  \t"];

        for (var round = 0; round < 2; round++)
        {
            foreach (var document in documents)
            {
                using var tokens = new TokenBuffer(16);
                encoder.Encode(document, startsDocument: true, tokens);
                Assert.Equal([Gpt2Tokenizer.EndOfText, .. plain.Encode(document)], tokens.Span.ToArray());
            }
        }
    }

    /// <summary>Documents given in memory; null documents throw, as a damaged row group would.</summary>
    private sealed class TestPiece(IReadOnlyList<string>? documents, long bytesRead) : InputPiece("test", bytesRead, 100)
    {
        public override PieceDocuments Read(PieceReaders readers) =>
            new([.. (documents ?? throw new InvalidDataException($"piece {BytesRead}: bad input")).Select(d => d.AsMemory())]);
    }

    /// <summary>One token per character, after a pause that differs per document, so pieces finish out of order.</summary>
    private sealed class UnevenEncoder : IDocumentEncoder
    {
        public GptTokenizer Tokenizer => throw new NotSupportedException("documents only");

        public void Encode(ReadOnlySpan<char> text, bool startsDocument, TokenBuffer tokens)
        {
            Thread.SpinWait(text.Length * 97 % 5000);
            foreach (var c in text)
            {
                tokens.Add(c);
            }
        }
    }
}
