using Dynamo.Admin.Auth;
using Dynamo.Admin.Hosting;

namespace Dynamo.Admin.Tests.Auth;

public sealed class OperatorPasswordTests
{
    [Fact]
    public void Verify_HashOfSamePassword_True()
    {
        var hash = OperatorPassword.Hash("s3cret!", iterations: 1000);

        Assert.True(OperatorPassword.Verify("s3cret!", hash));
        Assert.False(OperatorPassword.Verify("s3cret?", hash));
    }

    [Fact]
    public void Hash_SamePasswordTwice_DiffersBySalt()
    {
        Assert.NotEqual(OperatorPassword.Hash("same", iterations: 1000), OperatorPassword.Hash("same", iterations: 1000));
    }

    [Theory]
    [InlineData("plain-text")]
    [InlineData("md5$1$abc$def")]
    [InlineData("pbkdf2-sha256$zero$abc$def")]
    public void Verify_MalformedHash_ThrowsFormatException(string encoded)
    {
        Assert.Throws<FormatException>(() => OperatorPassword.Verify("x", encoded));
    }

    [Fact]
    public void Check_PlainPasswordConfigured_AcceptsOnlyTheRightPair()
    {
        var options = new AdminOptions { Username = "op", Password = "pw" };

        Assert.True(OperatorSignIn.Check(options, "op", "pw"));
        Assert.False(OperatorSignIn.Check(options, "op", "PW"));
        Assert.False(OperatorSignIn.Check(options, "other", "pw"));
        Assert.False(OperatorSignIn.Check(options, "op", ""));
    }

    [Fact]
    public void Check_NoCredentialsConfigured_RefusesEveryone()
    {
        Assert.False(OperatorSignIn.Check(new AdminOptions(), "", ""));
        Assert.False(OperatorSignIn.Check(new AdminOptions { Username = "op" }, "op", "anything"));
    }
}
