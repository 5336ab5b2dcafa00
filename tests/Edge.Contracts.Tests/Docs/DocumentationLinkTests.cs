using System.Text;
using System.Text.RegularExpressions;

namespace Edge.Contracts.Tests.Docs;

/// <summary>
/// Every relative link in the Markdown pages leads somewhere: the file exists and, when the link names a heading
/// (<c>page.md#heading</c>), the page has that heading. Pages move and headings get renamed; a reader following a
/// dead link from an install guide is stuck at the worst moment.
/// </summary>
public sealed partial class DocumentationLinkTests
{
    [Fact]
    public void Every_relative_link_and_anchor_in_the_docs_resolves()
    {
        var root = RepositoryPaths.Root;
        var broken = new List<string>();
        foreach (var page in MarkdownPages(root))
        {
            foreach (var (target, line) in Links(File.ReadAllText(page)))
            {
                var problem = Check(page, target);
                if (problem is not null)
                {
                    broken.Add($"{Path.GetRelativePath(root, page)}:{line}: ({target}) {problem}");
                }
            }
        }

        Assert.True(broken.Count == 0, "broken links:\n" + string.Join('\n', broken));
    }

    [Theory]
    [InlineData("Installing on a Linux gateway (.deb)", "installing-on-a-linux-gateway-deb")]
    [InlineData("`edgectl agent status`: what it says", "edgectl-agent-status-what-it-says")]
    [InlineData("Before you start: a disk made for writes", "before-you-start-a-disk-made-for-writes")]
    [InlineData("Roles and what they may do", "roles-and-what-they-may-do")]
    public void Headings_become_anchors_the_way_GitHub_makes_them(string heading, string anchor) =>
        Assert.Equal(anchor, Anchor(heading));

    private static IEnumerable<string> MarkdownPages(string root) =>
        Directory.EnumerateFiles(root, "*.md", SearchOption.AllDirectories)
            .Where(path => !Path.GetRelativePath(root, path).Split(Path.DirectorySeparatorChar)
                .Any(part => part is "node_modules" or "bin" or "obj" or ".git" or ".run" || part.StartsWith('.')));

    /// <summary>Links outside fenced code blocks, with the line they are on.</summary>
    private static IEnumerable<(string Target, int Line)> Links(string markdown)
    {
        var inFence = false;
        var lines = markdown.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                inFence = !inFence;
                continue;
            }

            if (inFence)
            {
                continue;
            }

            foreach (Match match in LinkPattern().Matches(WithoutInlineCode(lines[i])))
            {
                yield return (match.Groups["target"].Value, i + 1);
            }
        }
    }

    private static string? Check(string page, string target)
    {
        if (target.Contains("://", StringComparison.Ordinal) || target.StartsWith("mailto:", StringComparison.Ordinal))
        {
            return null;
        }

        var hash = target.IndexOf('#', StringComparison.Ordinal);
        var file = hash < 0 ? target : target[..hash];
        var anchor = hash < 0 ? null : target[(hash + 1)..];
        var path = file.Length == 0 ? page : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(page)!, Uri.UnescapeDataString(file)));
        if (!File.Exists(path) && !Directory.Exists(path))
        {
            return "no such file";
        }

        if (anchor is null || !path.EndsWith(".md", StringComparison.Ordinal) || Directory.Exists(path))
        {
            return null;
        }

        return Anchors(File.ReadAllText(path)).Contains(anchor) ? null : "no such heading";
    }

    /// <summary>GitHub's anchors: each heading slugged, a repeated slug numbered -1, -2, …; explicit id anchors too.</summary>
    private static HashSet<string> Anchors(string markdown)
    {
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        var inFence = false;
        foreach (var line in markdown.Split('\n'))
        {
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                inFence = !inFence;
            }
            else if (!inFence && HeadingPattern().Match(line) is { Success: true } heading)
            {
                var slug = Anchor(heading.Groups["text"].Value);
                var unique = slug;
                for (var n = 1; !anchors.Add(unique); n++)
                {
                    unique = $"{slug}-{n}";
                }
            }

            foreach (Match id in IdPattern().Matches(line))
            {
                anchors.Add(id.Groups["id"].Value);
            }
        }

        return anchors;
    }

    private static string Anchor(string heading)
    {
        var text = LinkTextPattern().Replace(heading.Trim(), "${text}");
        var slug = new StringBuilder();
        foreach (var c in text.ToLowerInvariant())
        {
            if (char.IsLetterOrDigit(c) || c is '-' or '_')
            {
                slug.Append(c);
            }
            else if (c == ' ')
            {
                slug.Append('-');
            }
        }

        return slug.ToString();
    }

    private static string WithoutInlineCode(string line) => InlineCodePattern().Replace(line, "");

    [GeneratedRegex(@"\[[^\]]*\]\((?<target>[^)\s]+)(?:\s+""[^""]*"")?\)")]
    private static partial Regex LinkPattern();

    [GeneratedRegex(@"^#{1,6}\s+(?<text>.+?)\s*#*\s*$")]
    private static partial Regex HeadingPattern();

    [GeneratedRegex(@"<a\s+(?:id|name)=""(?<id>[^""]+)""")]
    private static partial Regex IdPattern();

    [GeneratedRegex(@"\[(?<text>[^\]]*)\]\([^)]*\)")]
    private static partial Regex LinkTextPattern();

    [GeneratedRegex(@"`[^`]*`")]
    private static partial Regex InlineCodePattern();
}
