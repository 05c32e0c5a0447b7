using System.Net;
using System.Net.Http.Json;
using Dynamo.ServiceDefaults.Resilience;
using Dynamo.ServiceDefaults.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Dynamo.ServiceDefaults.Tests.Resilience;

public sealed class StandardResilienceHandlerTests
{
    private const string Url = "http://worker.test/v1/generate";

    private sealed class Client : IDisposable
    {
        private readonly ServiceProvider _services;

        public Client(ScriptedHandler inner, Action<HttpStandardResilienceOptions>? configure = null)
        {
            var services = new ServiceCollection();
            services.AddLogging();
            services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
            services.AddSingleton<TimeProvider>(Time);
            services.AddHttpClient("test").AddStandardResilienceHandler(configure).ConfigurePrimaryHttpMessageHandler(() => inner);
            _services = services.BuildServiceProvider();
            Http = _services.GetRequiredService<IHttpClientFactory>().CreateClient("test");
            Http.Timeout = TimeSpan.FromSeconds(30);
        }

        /// <summary>Back-offs (up to a minute) elapse at once; the 100 s attempt timeout never fires unless a test shortens it.</summary>
        public ImmediateTimeProvider Time { get; } = new(TimeSpan.FromMinutes(1));

        public HttpClient Http { get; }

        public void Dispose() => _services.Dispose();
    }

    [Fact]
    public async Task Get_TransientFailuresThenSuccess_RetriedUntilSuccess()
    {
        var inner = new ScriptedHandler(
            ScriptedHandler.Status(HttpStatusCode.ServiceUnavailable),
            ScriptedHandler.Throw(new HttpRequestException("reset")),
            ScriptedHandler.Status(HttpStatusCode.OK));
        using var client = new Client(inner);

        using var response = await client.Http.GetAsync(Url);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(3, inner.Attempts);
    }

    [Fact]
    public void SyncSend_TransientFailureThenSuccess_RetriedToo()
    {
        var inner = new ScriptedHandler(ScriptedHandler.Status(HttpStatusCode.ServiceUnavailable), ScriptedHandler.Status(HttpStatusCode.OK));
        using var client = new Client(inner);

        using var response = client.Http.Send(new HttpRequestMessage(HttpMethod.Get, Url));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, inner.Attempts);
    }

    [Fact]
    public async Task Get_AlwaysFailing_StopsAfterMaxRetriesAndReturnsLastResponse()
    {
        var inner = new ScriptedHandler(ScriptedHandler.Status(HttpStatusCode.BadGateway));
        using var client = new Client(inner, o => o.MaxRetryAttempts = 2);

        using var response = await client.Http.GetAsync(Url);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal(3, inner.Attempts);
    }

    [Theory]
    [InlineData(HttpStatusCode.NotFound)]
    [InlineData(HttpStatusCode.BadRequest)]
    [InlineData(HttpStatusCode.Conflict)]
    public async Task Get_NonTransientStatus_NotRetried(HttpStatusCode status)
    {
        var inner = new ScriptedHandler(ScriptedHandler.Status(status), ScriptedHandler.Status(HttpStatusCode.OK));
        using var client = new Client(inner);

        using var response = await client.Http.GetAsync(Url);

        Assert.Equal(status, response.StatusCode);
        Assert.Equal(1, inner.Attempts);
    }

    [Fact]
    public async Task Post_ServerError_NotRetriedBecauseNotIdempotent()
    {
        var inner = new ScriptedHandler(ScriptedHandler.Status(HttpStatusCode.InternalServerError), ScriptedHandler.Status(HttpStatusCode.OK));
        using var client = new Client(inner);

        using var response = await client.Http.PostAsync(Url, new StringContent("{}"));

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal(1, inner.Attempts);
    }

    [Fact]
    public async Task Post_MarkedRetryableWithJsonContent_Retried()
    {
        var inner = new ScriptedHandler(ScriptedHandler.Status(HttpStatusCode.InternalServerError), ScriptedHandler.Status(HttpStatusCode.OK));
        using var client = new Client(inner);
        using var request = new HttpRequestMessage(HttpMethod.Post, Url) { Content = JsonContent.Create(new { prompt = "hi" }) };

        using var response = await client.Http.SendAsync(request.MarkRetryable());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, inner.Attempts);
    }

    [Fact]
    public async Task Put_StreamContent_NotRetriedBecauseNotReplayable()
    {
        var inner = new ScriptedHandler(ScriptedHandler.Status(HttpStatusCode.ServiceUnavailable), ScriptedHandler.Status(HttpStatusCode.OK));
        using var client = new Client(inner);

        using var response = await client.Http.PutAsync(Url, new StreamContent(new MemoryStream([1, 2, 3])));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(1, inner.Attempts);
    }

    [Fact]
    public async Task Post_ConnectionRefused_RetriedBecauseNothingWasSent()
    {
        var inner = new ScriptedHandler(
            ScriptedHandler.Throw(new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused")),
            ScriptedHandler.Status(HttpStatusCode.OK));
        using var client = new Client(inner);

        using var response = await client.Http.PostAsync(Url, new StringContent("{}"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, inner.Attempts);
    }

    [Fact]
    public async Task Post_ResponseEndedMidway_NotRetried()
    {
        var inner = new ScriptedHandler(
            ScriptedHandler.Throw(new HttpRequestException(HttpRequestError.ResponseEnded, "ended")),
            ScriptedHandler.Status(HttpStatusCode.OK));
        using var client = new Client(inner);

        await Assert.ThrowsAsync<HttpRequestException>(() => client.Http.PostAsync(Url, new StringContent("{}")));

        Assert.Equal(1, inner.Attempts);
    }

    [Fact]
    public async Task Get_TooManyRequestsWithRetryAfter_WaitsExactlyThatLong()
    {
        var inner = new ScriptedHandler(
            ScriptedHandler.Status(HttpStatusCode.TooManyRequests, TimeSpan.FromSeconds(7)),
            ScriptedHandler.Status(HttpStatusCode.OK));
        using var client = new Client(inner);

        using var response = await client.Http.GetAsync(Url);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(TimeSpan.FromSeconds(7), client.Time.DueTimes);
    }

    [Fact]
    public async Task Get_RetryAfterBeyondLimit_ResponsePassedBackWithoutRetry()
    {
        var inner = new ScriptedHandler(ScriptedHandler.Status(HttpStatusCode.ServiceUnavailable, TimeSpan.FromMinutes(2)));
        using var client = new Client(inner);

        using var response = await client.Http.GetAsync(Url);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(TimeSpan.FromMinutes(2), response.Headers.RetryAfter?.Delta);
        Assert.Equal(1, inner.Attempts);
    }

    [Fact]
    public async Task Get_ServerNeverAnswers_EachAttemptTimesOut()
    {
        var inner = new ScriptedHandler(ScriptedHandler.Hang());
        using var client = new Client(inner, o =>
        {
            o.AttemptTimeout = TimeSpan.FromSeconds(1);
            o.MaxRetryAttempts = 2;
        });

        await Assert.ThrowsAsync<TimeoutRejectedException>(() => client.Http.GetAsync(Url));

        Assert.Equal(3, inner.Attempts);
        Assert.Equal(3, client.Time.DueTimes.Count(d => d == TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task Get_CallerCancels_NotRetried()
    {
        var inner = new ScriptedHandler(ScriptedHandler.Hang());
        using var client = new Client(inner);
        using var cts = new CancellationTokenSource();

        var call = client.Http.GetAsync(Url, cts.Token);
        await inner.FirstAttemptStarted.Task;
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        Assert.Equal(1, inner.Attempts);
    }

    [Fact]
    public async Task Get_RepeatedFailures_CircuitOpensAndFailsFast()
    {
        var inner = new ScriptedHandler(ScriptedHandler.Status(HttpStatusCode.InternalServerError));
        using var client = new Client(inner, o =>
        {
            o.MaxRetryAttempts = 0;
            o.MinimumThroughput = 2;
            o.FailureRatio = 0.5;
            o.BreakDuration = TimeSpan.FromMinutes(5);
        });

        (await client.Http.GetAsync(Url)).Dispose();
        (await client.Http.GetAsync(Url)).Dispose();

        await Assert.ThrowsAsync<BrokenCircuitException>(() => client.Http.GetAsync(Url));
        Assert.Equal(2, inner.Attempts);
    }

    [Fact]
    public async Task Get_CircuitOpenForOneService_OtherServiceUnaffected()
    {
        var inner = new ScriptedHandler((request, _) => Task.FromResult(new HttpResponseMessage(
            request.RequestUri!.Host == "bad.test" ? HttpStatusCode.InternalServerError : HttpStatusCode.OK)));
        using var client = new Client(inner, o =>
        {
            o.MaxRetryAttempts = 0;
            o.MinimumThroughput = 2;
            o.BreakDuration = TimeSpan.FromMinutes(5);
        });

        (await client.Http.GetAsync("http://bad.test/")).Dispose();
        (await client.Http.GetAsync("http://bad.test/")).Dispose();
        await Assert.ThrowsAsync<BrokenCircuitException>(() => client.Http.GetAsync("http://bad.test/"));
        using var good = await client.Http.GetAsync("http://good.test/");

        Assert.Equal(HttpStatusCode.OK, good.StatusCode);
    }

    [Fact]
    public void Options_InvalidValues_ValidationNamesTheSetting()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddHttpClient("bad").AddStandardResilienceHandler(o => o.FailureRatio = 2);
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() =>
            provider.GetRequiredService<IOptionsMonitor<HttpStandardResilienceOptions>>().Get("bad"));

        Assert.Contains("FailureRatio", error.Message, StringComparison.Ordinal);
    }
}
