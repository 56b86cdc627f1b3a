using SharpGpt.Data;

namespace SharpGpt.Tests.Data;

public class SafeTextCutTests
{
    /// <summary>Every position of many random texts: where the rule says a cut is safe, GPT-2's pre-tokenizer gives
    /// the two parts exactly the pieces of the whole (so BPE, which works piece by piece, gives the same tokens).
    /// The texts also hold many positions where a cut does change the pieces, which the rule must refuse.</summary>
    [Fact]
    public void Every_cut_called_safe_leaves_the_pre_tokenizer_pieces_unchanged()
    {
        var random = new Random(25);
        int safe = 0, unsafeCuts = 0;
        for (var round = 0; round < 300; round++)
        {
            var text = AdversarialText.Generate(random, 200);
            var whole = Pieces(text);
            for (var position = 1; position <= text.Length - 2; position++)
            {
                var cut = Pieces(text[..position]).Concat(Pieces(text[position..])).ToList();
                var unchanged = cut.SequenceEqual(whole);
                if (SafeTextCut.IsSafe(text, position))
                {
                    Assert.True(unchanged, $"cut at {position} of {Show(text)}:\n{Show(text[..position])} | {Show(text[position..])}");
                    safe++;
                }
                else if (!unchanged)
                {
                    unsafeCuts++;
                }
            }
        }

        // The texts must be able to catch a wrong rule: plenty of cuts that change the pieces, and plenty allowed.
        Assert.True(unsafeCuts > 10_000, $"{unsafeCuts} unsafe positions");
        Assert.True(safe > 10_000, $"{safe} safe positions");
    }

    [Theory]
    [InlineData("ab \ncd", 3)]   // "ab", " ", "\n", "cd": the cut between the space and the \n
    [InlineData("x  y", 2)]      // "x", " ", " y": the cut between the spaces
    [InlineData("x\n\ny", 2)]    // "x", "\n", "\n", "y"
    [InlineData("it's", 2)]      // "it", "'s"
    [InlineData("ab12", 2)]      // letters then digits
    [InlineData("a<|endoftext|>b", 12)] // before the last "|"
    public void Finds_the_last_safe_cut(string text, int expected)
    {
        Assert.Equal(expected, SafeTextCut.FindLast(text));
    }

    [Theory]
    [InlineData("x \ny", 3)]     // "x", " ", "\n", "y" as a whole, but "x \n" alone ends in the piece " \n"
    [InlineData("x\n\ny", 3)]    // likewise "\n\n" at the end of a part
    [InlineData("it's", 3)]      // inside "'s"
    [InlineData("x 's", 2)]      // " '" is one piece
    [InlineData("abc", 1)]       // inside a word
    [InlineData("a😀b", 2)]      // inside a surrogate pair
    public void Refuses_a_cut_that_changes_the_pieces(string text, int position)
    {
        Assert.False(SafeTextCut.IsSafe(text, position));
        var pieces = Pieces(text[..position]).Concat(Pieces(text[position..]));
        if (!char.IsSurrogatePair(text[position - 1], text[position]))
        {
            Assert.NotEqual(Pieces(text), pieces);
        }
    }

    [Fact]
    public void A_run_of_letters_has_no_safe_cut()
    {
        Assert.Equal(-1, SafeTextCut.FindLast(new string('a', 1000)));
        Assert.Equal(-1, SafeTextCut.FindLast("ab"));
    }

    private static List<string> Pieces(string text)
    {
        var pieces = new List<string>();
        foreach (var match in Gpt2Tokenizer.PreTokenizer.EnumerateMatches(text))
        {
            pieces.Add(text.Substring(match.Index, match.Length));
        }

        return pieces;
    }

    private static string Show(string text) =>
        string.Concat(text.Select(c => c is >= ' ' and < '\u007F' ? c.ToString() : $"\\u{(int)c:X4}"));
}
