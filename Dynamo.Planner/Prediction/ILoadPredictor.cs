namespace Dynamo.Planner.Prediction;

/// <summary>
/// Forecasts the next value of one load series (request rate, input length, output length) from the values seen at
/// each planner interval. One instance per series; not thread-safe (the planner loop owns it).
/// </summary>
public interface ILoadPredictor
{
    /// <summary>The configured name (<see cref="LoadPredictors"/>), as decisions report it.</summary>
    string Name { get; }

    /// <summary>Feeds the value observed over the interval that just ended.</summary>
    void Observe(double value);

    /// <summary>The expected value over the next interval; never negative, zero before anything was observed.</summary>
    double Predict();
}

/// <summary>Names of the predictors, as <c>Planner:Predictor</c> selects them.</summary>
public static class LoadPredictors
{
    public const string Constant = "constant";
    public const string MovingAverage = "moving-average";
    public const string Holt = "holt";
    public const string Kalman = "kalman";
    public const string Arima = "arima";

    public static IReadOnlyList<string> All { get; } = [Constant, MovingAverage, Holt, Kalman, Arima];

    /// <summary>A fresh predictor of the named kind.</summary>
    /// <exception cref="ArgumentException">The name is not one of <see cref="All"/>.</exception>
    public static ILoadPredictor Create(string name, PredictorSettings settings) => name switch
    {
        Constant => new ConstantPredictor(),
        MovingAverage => new MovingAveragePredictor(settings.Window),
        Holt => new HoltPredictor(settings.HoltAlpha, settings.HoltBeta),
        Kalman => new KalmanPredictor(settings.KalmanLevelNoise, settings.KalmanTrendNoise, settings.KalmanObservationNoise),
        Arima => new ArimaPredictor(settings.ArOrder, settings.Window),
        _ => throw new ArgumentException($"Unknown predictor '{name}'; predictors are {string.Join(", ", All)}.", nameof(name)),
    };
}

/// <summary>Tuning of the predictors; the defaults suit a 10–60 s planner interval.</summary>
public sealed record PredictorSettings
{
    public static PredictorSettings Default { get; } = new();

    /// <summary>Samples the moving average averages and the ARIMA fit uses.</summary>
    public int Window { get; init; } = 8;

    public double HoltAlpha { get; init; } = 0.5;

    public double HoltBeta { get; init; } = 0.3;

    /// <summary>Variance of the level's random walk, relative to the observation noise.</summary>
    public double KalmanLevelNoise { get; init; } = 1.0;

    public double KalmanTrendNoise { get; init; } = 0.1;

    public double KalmanObservationNoise { get; init; } = 1.0;

    /// <summary>Order p of the autoregression on first differences.</summary>
    public int ArOrder { get; init; } = 2;
}
