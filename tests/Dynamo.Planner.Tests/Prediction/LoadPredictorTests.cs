using Dynamo.Planner.Prediction;

namespace Dynamo.Planner.Tests.Prediction;

public sealed class LoadPredictorTests
{
    private static readonly PredictorSettings Settings = PredictorSettings.Default with { Window = 16 };

    public static TheoryData<string> All => [.. LoadPredictors.All];

    [Theory]
    [MemberData(nameof(All))]
    public void Predict_ZeroSeries_PredictsZero(string name)
    {
        var predictor = LoadPredictors.Create(name, Settings);
        Assert.Equal(0, predictor.Predict());
        for (var i = 0; i < 20; i++)
        {
            predictor.Observe(0);
        }

        Assert.Equal(0, predictor.Predict(), 9);
    }

    [Theory]
    [MemberData(nameof(All))]
    public void Predict_StepUp_ConvergesToNewLevel(string name)
    {
        var predictor = LoadPredictors.Create(name, Settings);
        Feed(predictor, Enumerable.Repeat(2.0, 10));
        Feed(predictor, Enumerable.Repeat(10.0, 20));

        Assert.InRange(predictor.Predict(), 9.5, 10.5);
    }

    [Theory]
    [MemberData(nameof(All))]
    public void Predict_DropToZeroAfterRampDown_NeverNegative(string name)
    {
        var predictor = LoadPredictors.Create(name, Settings);
        Feed(predictor, Enumerable.Range(0, 10).Select(i => 50.0 - (5 * i)));
        Feed(predictor, Enumerable.Repeat(0.0, 3));

        Assert.True(predictor.Predict() >= 0);
    }

    [Theory]
    [InlineData(LoadPredictors.Holt)]
    [InlineData(LoadPredictors.Kalman)]
    [InlineData(LoadPredictors.Arima)]
    public void Predict_Ramp_ExtrapolatesAheadOfLastValue(string name)
    {
        var predictor = LoadPredictors.Create(name, Settings);
        Feed(predictor, Enumerable.Range(0, 20).Select(i => 5.0 + (2 * i)));

        // Last value 43; the next one is 45. A predictor without a trend says 43 (or less).
        Assert.InRange(predictor.Predict(), 44.5, 45.5);
    }

    [Fact]
    public void Predict_Ramp_ConstantAndMovingAverageLag()
    {
        var constant = LoadPredictors.Create(LoadPredictors.Constant, Settings);
        var average = LoadPredictors.Create(LoadPredictors.MovingAverage, Settings with { Window = 4 });
        var ramp = Enumerable.Range(0, 20).Select(i => 5.0 + (2 * i)).ToList();
        Feed(constant, ramp);
        Feed(average, ramp);

        Assert.Equal(43, constant.Predict(), 9);
        Assert.Equal(40, average.Predict(), 9);
    }

    [Fact]
    public void Predict_Periodic_ArimaBeatsConstant()
    {
        var series = Enumerable.Range(0, 80).Select(i => 20 + (10 * Math.Sin(2 * Math.PI * i / 8))).ToList();
        var arima = OneStepError(LoadPredictors.Arima, series);
        var constant = OneStepError(LoadPredictors.Constant, series);

        Assert.True(arima < constant / 5, $"ARIMA mean error {arima:0.###} should be far below constant's {constant:0.###}");
    }

    [Fact]
    public void Predict_SingleBurst_MovingAverageDampensAndAllRecover()
    {
        var average = LoadPredictors.Create(LoadPredictors.MovingAverage, Settings with { Window = 8 });
        Feed(average, Enumerable.Repeat(4.0, 10).Append(40));
        Assert.InRange(average.Predict(), 8, 9);

        foreach (var name in LoadPredictors.All)
        {
            var predictor = LoadPredictors.Create(name, Settings);
            Feed(predictor, Enumerable.Repeat(4.0, 10).Append(40).Concat(Enumerable.Repeat(4.0, 20)));
            Assert.InRange(predictor.Predict(), 3, 5);
        }
    }

    [Fact]
    public void Predict_KalmanOnNoisyLevel_StaysNearMean()
    {
        var random = new Random(7);
        var kalman = LoadPredictors.Create(LoadPredictors.Kalman, Settings);
        Feed(kalman, Enumerable.Range(0, 200).Select(_ => 30 + ((random.NextDouble() - 0.5) * 4)));

        Assert.InRange(kalman.Predict(), 27, 33);
    }

    [Fact]
    public void Create_UnknownName_ThrowsWithTheChoices()
    {
        var error = Assert.Throws<ArgumentException>(() => LoadPredictors.Create("prophet", Settings));

        Assert.Contains("kalman", error.Message, StringComparison.Ordinal);
    }

    private static void Feed(ILoadPredictor predictor, IEnumerable<double> values)
    {
        foreach (var value in values)
        {
            predictor.Observe(value);
        }
    }

    private static double OneStepError(string name, IReadOnlyList<double> series)
    {
        var predictor = LoadPredictors.Create(name, Settings);
        var error = 0.0;
        var count = 0;
        for (var i = 0; i < series.Count; i++)
        {
            if (i >= 40)
            {
                error += Math.Abs(predictor.Predict() - series[i]);
                count++;
            }

            predictor.Observe(series[i]);
        }

        return error / count;
    }
}
