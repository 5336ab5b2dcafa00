namespace Edge.Cli.Terminal;

/// <summary>A plain-text table with a header row, columns padded to their widest cell; numbers right-aligned.</summary>
internal sealed class TextTable(params string[] headers)
{
    readonly List<string[]> _rows = [];
    readonly bool[] _rightAligned = new bool[headers.Length];

    public TextTable RightAlign(params int[] columns)
    {
        foreach (var column in columns)
        {
            _rightAligned[column] = true;
        }

        return this;
    }

    public void Add(params string[] cells)
    {
        if (cells.Length != headers.Length)
        {
            throw new ArgumentException($"Expected {headers.Length} cells, got {cells.Length}.", nameof(cells));
        }

        _rows.Add(cells);
    }

    public void Write(TextWriter writer, string indent = "")
    {
        var widths = new int[headers.Length];
        foreach (var row in _rows.Prepend(headers))
        {
            for (var i = 0; i < row.Length; i++)
            {
                widths[i] = Math.Max(widths[i], row[i].Length);
            }
        }

        foreach (var row in _rows.Prepend(headers))
        {
            var cells = row.Select((cell, i) => _rightAligned[i] ? cell.PadLeft(widths[i]) : cell.PadRight(widths[i]));
            writer.WriteLine(indent + string.Join("  ", cells).TrimEnd());
        }
    }
}
