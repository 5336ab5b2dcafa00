using System.Text;
using Edge.Contracts.Identity;

namespace Edge.Storage.Tests.Identity;

public sealed class ContentIdTests
{
    // Computed independently with Python: SHA-256(namespace bytes + serial + b"\0" + payload)[:16], version 8, RFC variant.
    [Theory]
    [InlineData("OXY-8844-5521", """{"serial":"OXY-8844-5521","timestamp":"2026-01-15T12:00:00Z"}""", "a550b5de-b21d-8732-8077-5d65aafc53e1")]
    [InlineData("ECG-7711-0045", "", "cf13f748-1a2f-85e5-93c2-82036434ef20")]
    public void Matches_the_reference_vectors(string serial, string payload, string expected)
    {
        Assert.Equal(Guid.Parse(expected), ContentId.From(serial, Encoding.UTF8.GetBytes(payload)));
    }

    [Fact]
    public void A_payload_larger_than_the_stack_buffer_gives_the_same_id_as_the_reference()
    {
        Assert.Equal(Guid.Parse("922c7729-236a-8aa3-bf8c-f4275402167f"), ContentId.From("CPAP-2301-9912", Encoding.ASCII.GetBytes(new string('x', 5000))));
    }

    [Fact]
    public void The_namespace_is_the_version_5_id_of_its_own_name_in_the_URL_namespace_and_ids_are_version_8()
    {
        Assert.Equal(Guid.Parse("3da25b66-51af-5043-867e-4af8ce8dd34e"), ContentId.Namespace);
        var id = ContentId.From("OXY-8844-5521", "{}"u8);
        Assert.Equal(8, id.Version);
        Assert.Equal(0b10, id.Variant >> 2);
    }

    [Fact]
    public void Another_serial_or_one_byte_more_is_another_reading()
    {
        var payload = """{"serial":"OXY-8844-5521","timestamp":"2026-01-15T12:00:00Z"}"""u8.ToArray();

        Assert.NotEqual(ContentId.From("OXY-8844-5521", payload), ContentId.From("OXY-8844-5522", payload));
        Assert.NotEqual(ContentId.From("OXY-8844-5521", payload), ContentId.From("OXY-8844-5521", [.. payload, (byte)' ']));
    }
}
