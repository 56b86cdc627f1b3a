using Parquet;
using SharpGpt.Data;

namespace SharpGpt.Tests.Data;

public class ParquetPrepareTests
{
    [Theory]
    [InlineData(CompressionMethod.Zstd)]
    [InlineData(CompressionMethod.Snappy)]
    [InlineData(CompressionMethod.Gzip)]
    public void Parquet_prepares_to_exactly_the_tokens_of_the_same_documents_as_jsonl(CompressionMethod compression)
    {
        using var temp = new TempDirectory();
        var documents = FineWebSample.Documents(240);
        FineWebSample.WriteParquet(temp.File("docs.parquet"), documents, rowsPerGroup: 25, compression);
        FineWebSample.WriteJsonl(temp.File("docs.jsonl"), documents);
        var options = new PrepareOptions { ValidationFraction = 0.1, ShardTokens = 20_000 };

        var fromParquet = DataPreparer.Prepare([temp.File("docs.parquet")], temp.File("parquet"), options);
        var fromJsonl = DataPreparer.Prepare([temp.File("docs.jsonl")], temp.File("jsonl"), options);

        Assert.True(fromParquet.TrainShards.Count > 2, "the test needs several train shards");
        Assert.Equal(fromJsonl.Meta, fromParquet.Meta);
        Assert.Equal(fromJsonl.TrainShards.Select(Path.GetFileName), fromParquet.TrainShards.Select(Path.GetFileName));
        Assert.All(fromJsonl.TrainShards.Concat(fromJsonl.ValidationShards).Zip(fromParquet.TrainShards.Concat(fromParquet.ValidationShards)),
            pair => Assert.Equal(File.ReadAllBytes(pair.First), File.ReadAllBytes(pair.Second)));

        // And both are what the plain tokenizer gives, document by document, every tenth document in val.
        var val = documents.Where((_, i) => DataPreparer.IsValidationDocument(i, 0.1));
        var train = documents.Where((_, i) => !DataPreparer.IsValidationDocument(i, 0.1));
        Assert.Equal(FineWebSample.Gpt2Tokens(val), FineWebSample.ReadTokens(fromParquet.ValidationShards));
        Assert.Equal(FineWebSample.Gpt2Tokens(train), FineWebSample.ReadTokens(fromParquet.TrainShards));
    }

    [Fact]
    public void Gzipped_jsonl_prepares_like_plain_jsonl()
    {
        using var temp = new TempDirectory();
        var documents = FineWebSample.Documents(60);
        FineWebSample.WriteJsonl(temp.File("docs.jsonl.gz"), documents);

        var result = DataPreparer.Prepare([temp.File("docs.jsonl.gz")], temp.File("out"), new PrepareOptions { ValidationFraction = 0 });

        Assert.Equal(FineWebSample.Gpt2Tokens(documents), FineWebSample.ReadTokens(result.TrainShards));
    }

    [Fact]
    public void A_folder_of_two_files_concatenates_them_in_path_order()
    {
        using var temp = new TempDirectory();
        var folder = Directory.CreateDirectory(temp.File("fineweb")).FullName;
        var first = FineWebSample.Documents(30, seed: 1);
        var second = FineWebSample.Documents(30, seed: 2);
        // Written second-first, so the name order and not the writing order decides; subfolders count.
        FineWebSample.WriteJsonl(Path.Combine(Directory.CreateDirectory(Path.Combine(folder, "more")).FullName, "001_00000.jsonl"), second);
        FineWebSample.WriteParquet(Path.Combine(folder, "000_00000.parquet"), first, rowsPerGroup: 7);
        File.WriteAllText(Path.Combine(folder, "README.md"), "not an input");

        var result = DataPreparer.Prepare([folder], temp.File("out"), new PrepareOptions { ValidationFraction = 0 });

        Assert.Equal(FineWebSample.Gpt2Tokens([.. first, .. second]), FineWebSample.ReadTokens(result.TrainShards));
    }

    [Fact]
    public void Inputs_keep_the_order_given_and_a_glob_its_sorted_matches()
    {
        using var temp = new TempDirectory();
        var a = FineWebSample.Documents(10, seed: 3);
        var b = FineWebSample.Documents(10, seed: 4);
        var c = FineWebSample.Documents(10, seed: 5);
        FineWebSample.WriteParquet(temp.File("a.parquet"), a, rowsPerGroup: 4);
        FineWebSample.WriteParquet(temp.File("b.parquet"), b, rowsPerGroup: 4);
        FineWebSample.WriteJsonl(temp.File("c.jsonl"), c);
        var options = new PrepareOptions { ValidationFraction = 0 };

        var given = DataPreparer.Prepare([temp.File("c.jsonl"), temp.File("b.parquet"), temp.File("a.parquet")], temp.File("given"), options);
        var globbed = DataPreparer.Prepare([Path.Combine(temp.Path, "*.parquet")], temp.File("glob"), options);

        Assert.Equal(FineWebSample.Gpt2Tokens([.. c, .. b, .. a]), FineWebSample.ReadTokens(given.TrainShards));
        Assert.Equal(FineWebSample.Gpt2Tokens([.. a, .. b]), FineWebSample.ReadTokens(globbed.TrainShards));
    }

    [Fact]
    public void Val_tokens_takes_the_first_tokens_of_the_stream_and_cuts_the_document_it_ends_in()
    {
        using var temp = new TempDirectory();
        var documents = FineWebSample.Documents(50);
        FineWebSample.WriteParquet(temp.File("docs.parquet"), documents, rowsPerGroup: 8);
        var all = FineWebSample.Gpt2Tokens(documents);
        var firstDocument = FineWebSample.Gpt2Tokens(documents.Take(1)).Length;
        var valTokens = firstDocument + 5; // ends five tokens into the second document

        var result = DataPreparer.Prepare([temp.File("docs.parquet")], temp.File("out"), new PrepareOptions { ValidationTokens = valTokens, ShardTokens = 4_000 });

        Assert.Equal(all[..valTokens], FineWebSample.ReadTokens(result.ValidationShards));
        Assert.Equal(all[valTokens..], FineWebSample.ReadTokens(result.TrainShards));
        Assert.Equal(valTokens, result.Meta.ValTokens);
        Assert.Equal((all.Length - valTokens + 3_999) / 4_000, result.Meta.TrainShards);
    }

    [Fact]
    public void Val_tokens_beyond_the_input_is_an_error()
    {
        using var temp = new TempDirectory();
        FineWebSample.WriteJsonl(temp.File("docs.jsonl"), FineWebSample.Documents(5));

        var error = Assert.Throws<InvalidDataException>(() =>
            DataPreparer.Prepare([temp.File("docs.jsonl")], temp.File("out"), new PrepareOptions { ValidationTokens = 10_000_000 }));

        Assert.Contains(temp.File("docs.jsonl"), error.Message);
        Assert.Contains("none left for training", error.Message);
    }

    [Fact]
    public void Char_tokenizer_reads_parquet_with_its_vocabulary_from_every_document()
    {
        using var temp = new TempDirectory();
        FineWebSample.WriteParquet(temp.File("docs.parquet"), ["abc", "xyz", "aaa", "q"], rowsPerGroup: 3);

        var result = DataPreparer.Prepare([temp.File("docs.parquet")], temp.File("out"), new PrepareOptions { Tokenizer = TokenizerKind.Character, ValidationFraction = 0.25 });

        var tokenizer = Assert.IsType<CharTokenizer>(TokenizerFactory.LoadForDataDir(temp.File("out")));
        Assert.Equal("abcqxyz", tokenizer.Chars);
        Assert.Equal("abc", tokenizer.Decode(FineWebSample.ReadTokens(result.ValidationShards)));
        Assert.Equal("xyzaaaq", tokenizer.Decode(FineWebSample.ReadTokens(result.TrainShards)));
    }

    [Fact]
    public void Text_column_picks_another_column()
    {
        using var temp = new TempDirectory();
        FineWebSample.WriteParquet(temp.File("docs.parquet"), ["one", "two"], rowsPerGroup: 2);

        var result = DataPreparer.Prepare([temp.File("docs.parquet")], temp.File("out"), new PrepareOptions { TextColumn = "url", ValidationFraction = 0 });

        Assert.Equal(FineWebSample.Gpt2Tokens(["https://example.org/0", "https://example.org/1"]), FineWebSample.ReadTokens(result.TrainShards));
    }

    [Fact]
    public void A_file_that_is_not_parquet_is_named()
    {
        using var temp = new TempDirectory();
        var path = temp.File("fake.parquet");
        File.WriteAllText(path, "{\"text\": \"I am JSON\"}\n");

        var error = Assert.Throws<InvalidDataException>(() => DataPreparer.Prepare([path], temp.File("out")));

        Assert.StartsWith($"{path}: not a readable Parquet file", error.Message);
    }

    [Fact]
    public void A_file_that_is_not_gzip_is_named()
    {
        using var temp = new TempDirectory();
        var path = temp.File("fake.jsonl.gz");
        File.WriteAllText(path, "{\"text\": \"plain, not gzip\"}\n");

        var error = Assert.Throws<InvalidDataException>(() => DataPreparer.Prepare([path], temp.File("out")));

        Assert.StartsWith($"{path}: not a valid gzip file", error.Message);
    }

    [Fact]
    public void A_missing_column_is_named_with_the_columns_the_file_has()
    {
        using var temp = new TempDirectory();
        var path = temp.File("docs.parquet");
        FineWebSample.WriteParquet(path, ["one"], rowsPerGroup: 1);

        var error = Assert.Throws<InvalidDataException>(() => DataPreparer.Prepare([path], temp.File("out"), new PrepareOptions { TextColumn = "content" }));

        Assert.StartsWith($"{path}: no column \"content\" (the file has text, id, dump, url, score, int_score, language, language_score, token_count)", error.Message);
    }

    [Fact]
    public void A_column_that_is_not_text_is_an_error()
    {
        using var temp = new TempDirectory();
        var path = temp.File("docs.parquet");
        FineWebSample.WriteParquet(path, ["one"], rowsPerGroup: 1);

        var error = Assert.Throws<InvalidDataException>(() => DataPreparer.Prepare([path], temp.File("out"), new PrepareOptions { TextColumn = "int_score" }));

        Assert.StartsWith($"{path}: column \"int_score\" holds Int64, not text", error.Message);
    }

    [Fact]
    public void A_null_text_is_named_with_its_row_group_and_row()
    {
        using var temp = new TempDirectory();
        var path = temp.File("docs.parquet");
        string?[] texts = ["a", "b", "c", "d", "e", null, "g"];
        FineWebSample.WriteParquet(path, texts, rowsPerGroup: 2);

        var error = Assert.Throws<InvalidDataException>(() => DataPreparer.Prepare([path], temp.File("out")));

        Assert.Equal($"{path}: row group 2, row 1: \"text\" is null.", error.Message);
    }

    [Fact]
    public void A_null_jsonl_text_is_named_with_its_line()
    {
        using var temp = new TempDirectory();
        var path = temp.File("docs.jsonl");
        File.WriteAllText(path, "{\"text\": \"fine\"}\n\n{\"id\": 1, \"text\": null}\n");

        var error = Assert.Throws<InvalidDataException>(() => DataPreparer.Prepare([path], temp.File("out")));

        Assert.Equal($"{path}:3: \"text\" is null.", error.Message);
    }

    [Fact]
    public void Parquet_without_rows_is_an_empty_input()
    {
        using var temp = new TempDirectory();
        var path = temp.File("empty.parquet");
        FineWebSample.WriteParquet(path, Array.Empty<string?>(), rowsPerGroup: 1);

        var error = Assert.Throws<InvalidDataException>(() => DataPreparer.Prepare([path], temp.File("out")));

        Assert.Equal($"{path}: no documents with a non-empty \"text\".", error.Message);
    }

    [Fact]
    public void An_empty_file_among_others_is_named()
    {
        using var temp = new TempDirectory();
        FineWebSample.WriteJsonl(temp.File("a.jsonl"), ["fine"]);
        File.WriteAllText(temp.File("b.jsonl"), "");

        var error = Assert.Throws<InvalidDataException>(() => DataPreparer.Prepare([temp.File("a.jsonl"), temp.File("b.jsonl")], temp.File("out")));

        Assert.Equal($"{temp.File("b.jsonl")}: input file is empty.", error.Message);
    }

    [Fact]
    public void A_folder_or_glob_without_inputs_is_named()
    {
        using var temp = new TempDirectory();
        var folder = Directory.CreateDirectory(temp.File("nothing")).FullName;
        File.WriteAllText(Path.Combine(folder, "notes.md"), "no data here");
        var glob = Path.Combine(folder, "*.parquet");

        var noFiles = Assert.Throws<FileNotFoundException>(() => DataPreparer.Prepare([folder], temp.File("out")));
        var noMatches = Assert.Throws<FileNotFoundException>(() => DataPreparer.Prepare([glob], temp.File("out")));

        Assert.StartsWith($"{folder}: the folder holds no .txt, .jsonl, .jsonl.gz or .parquet file", noFiles.Message);
        Assert.StartsWith($"{glob}: the glob holds no", noMatches.Message);
    }

    [Fact]
    public void A_failure_leaves_no_half_written_shard_and_no_meta()
    {
        using var temp = new TempDirectory();
        var path = temp.File("docs.parquet");
        FineWebSample.WriteParquet(path, [.. FineWebSample.Documents(30), null], rowsPerGroup: 10);
        var outDir = temp.File("out");

        Assert.Throws<InvalidDataException>(() => DataPreparer.Prepare([path], outDir, new PrepareOptions { ShardTokens = 1_000_000 }));

        Assert.False(File.Exists(Path.Combine(outDir, PreparedDataMeta.FileName)));
        Assert.Empty(Directory.GetFiles(outDir, "*.tmp"));
    }
}
