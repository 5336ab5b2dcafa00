using Edge.Contracts.Identity;

namespace Edge.Storage.Tests.Identity;

public sealed class ReadingIdTests
{
    // Computed independently with Python's uuid.uuid5(namespace, f"{gateway}/{epoch}/{sequence}").
    [Theory]
    [InlineData("gw-0001", 1, 1, "98dd6a5f-28dd-54fe-938c-89ecab69dec7")]
    [InlineData("gw-0001", 1, 2, "7a91f452-b145-5408-9425-68ddd06fc988")]
    [InlineData("gw-0001", 2, 1, "296d73c2-92da-5465-94f8-e516844b1f30")]
    [InlineData("clinic-berlin-07", 8233412931, 0, "442764f2-93c5-54e9-915c-8713756a786a")]
    [InlineData("gw-ü", -5, long.MaxValue, "6bdb3cf5-5779-5d7f-8dfc-e57c64bfe8f5")]
    [InlineData("gw-0001", long.MinValue, 0, "9f0a1ab4-19f2-54d0-90c7-009a20108992")]
    [InlineData("a/1", 2, 3, "cf3c5ff2-1d92-5e02-bf8c-965f7558621f")]
    [InlineData("a", 1, 2, "44838c83-ef84-5e9e-8ee5-d3aafa808ec3")]
    public void Matches_the_RFC_9562_version_5_vectors(string gateway, long epoch, long sequence, string expected)
    {
        Assert.Equal(Guid.Parse(expected), ReadingId.From(gateway, epoch, sequence));
    }

    [Fact]
    public void A_gateway_id_longer_than_the_stack_buffer_gives_the_same_id_as_the_reference()
    {
        Assert.Equal(Guid.Parse("52c4058f-25ad-5f2b-b0f4-50cc8484f9cc"), ReadingId.From(new string('g', 300), 1, 1));
    }

    [Fact]
    public void The_namespace_is_the_version_5_id_of_its_own_name_in_the_URL_namespace()
    {
        Assert.Equal(Guid.Parse("8febb2ef-9445-5ac1-8edd-72df812c2b03"), ReadingId.Namespace);
        Assert.Equal(5, ReadingId.Namespace.Version);
    }

    [Fact]
    public void Ids_carry_version_5_and_the_RFC_variant()
    {
        var id = ReadingId.From("gw-0001", 7, 42);
        Assert.Equal(5, id.Version);
        Assert.Equal(0b10, id.Variant >> 2);
    }

    [Fact]
    public void The_same_inputs_always_give_the_same_id_and_any_change_gives_another()
    {
        var id = ReadingId.From("gw-0001", 7, 42);
        Assert.Equal(id, ReadingId.From("gw-0001", 7, 42));
        Assert.NotEqual(id, ReadingId.From("gw-0002", 7, 42));
        Assert.NotEqual(id, ReadingId.From("gw-0001", 8, 42));
        Assert.NotEqual(id, ReadingId.From("gw-0001", 7, 43));
        Assert.NotEqual(ReadingId.From("gw-0001", 71, 1), ReadingId.From("gw-0001", 7, 11));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void A_missing_gateway_id_is_refused(string? gateway)
    {
        Assert.ThrowsAny<ArgumentException>(() => ReadingId.From(gateway!, 1, 1));
    }
}
