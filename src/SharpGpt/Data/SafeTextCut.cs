namespace SharpGpt.Data;

/// <summary>Where a text may be cut so that its two parts, tokenized on their own, give exactly the tokens of the
/// whole: for GPT-2, the pieces of its pre-tokenizer (<see cref="Gpt2Tokenizer.PreTokenizer"/>) are the same on
/// both sides, since BPE never looks across a piece; for the char tokenizer, no surrogate pair is split.
/// <para>The pre-tokenizer <c>'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+</c> has no
/// look-behind, so the part after a cut tokenizes as the whole does from there whenever no piece of the whole
/// crosses the cut. The part before it can differ only through what the end of the text changes: a greedy run
/// stops there as it stops before any character outside its class, but <c>(?!\S)</c> succeeds there, so a
/// whitespace run that ends the part comes out whole where the whole text would keep its last character back.
/// A cut between characters a and b (c follows b) is therefore safe when:</para>
/// <list type="bullet">
/// <item>a is not whitespace and b is: no piece holds both (whitespace joins a piece only as its first
/// character or in a run of whitespace), and a's piece ended at b in the whole text as it ends at the end here.</item>
/// <item>a and b are whitespace and c is not: the whole text gives the run before b as one piece, then b alone
/// (or b with c's word, b being a space); the part before the cut ends with that run, which the end of the text
/// leaves one piece too.</item>
/// <item>a and b are not whitespace, one a letter and the other a number or neither, or one a number and the
/// other neither, and a is not an apostrophe: every piece of non-whitespace characters is of one class, except
/// 's, 'll and the like, which begin with the apostrophe.</item>
/// </list>
/// <para>Classes are those of .NET's regular expressions, char by char: a surrogate is neither a letter nor a
/// number, so the two halves of a pair are of one class and never cut apart.</para></summary>
internal static class SafeTextCut
{
    /// <summary>Whether cutting <paramref name="text"/> before index <paramref name="position"/> changes no token.
    /// It looks at the characters just before and after the cut, and one more: position must be in
    /// [1, text.Length - 2].</summary>
    public static bool IsSafe(ReadOnlySpan<char> text, int position)
    {
        var before = text[position - 1];
        var after = text[position];
        var afterIsSpace = char.IsWhiteSpace(after);
        if (char.IsWhiteSpace(before))
        {
            return afterIsSpace && !char.IsWhiteSpace(text[position + 1]);
        }

        return afterIsSpace || (before != '\'' && ClassOf(before) != ClassOf(after));
    }

    /// <summary>The last safe cut of <paramref name="text"/>, so the part before it is as long as can be; -1 when
    /// there is none (a single run of letters, say).</summary>
    public static int FindLast(ReadOnlySpan<char> text)
    {
        for (var position = text.Length - 2; position >= 1; position--)
        {
            if (IsSafe(text, position))
            {
                return position;
            }
        }

        return -1;
    }

    private static int ClassOf(char c) => char.IsLetter(c) ? 1 : char.IsNumber(c) ? 2 : 0;
}
