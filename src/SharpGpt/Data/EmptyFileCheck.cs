namespace SharpGpt.Data;

/// <summary>Fails on the first input file that gave no document, as soon as the batches have moved past it: they
/// come in file order, so a file is done when a later one shows up.</summary>
internal sealed class EmptyFileCheck(IReadOnlyList<string> files, string textColumn, DataFormat format = DataFormat.Text)
{
    private int _current;
    private long _documents;

    public void Saw(string file, int documents)
    {
        while (files[_current] != file)
        {
            CompleteCurrent();
        }

        _documents += documents;
    }

    public void Finish()
    {
        while (_current < files.Count)
        {
            CompleteCurrent();
        }
    }

    private void CompleteCurrent()
    {
        if (_documents == 0)
        {
            var file = files[_current];
            throw new InvalidDataException(file.EndsWith(".txt", StringComparison.OrdinalIgnoreCase) ? $"{file}: the text is empty."
                : format != DataFormat.Text ? $"{file}: no {FineTuningRecord.Name(format)} records."
                : $"{file}: no documents with a non-empty \"{textColumn}\".");
        }

        (_current, _documents) = (_current + 1, 0);
    }
}
