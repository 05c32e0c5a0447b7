namespace Dynamo.Planner.Prediction;

/// <summary>
/// Kalman filter on a local linear trend model: state (level, slope), level₍t+1₎ = level + slope + w₁,
/// slope₍t+1₎ = slope + w₂, observation = level + v. The gain adapts to how noisy the series has been, so it follows a
/// ramp like Holt but weighs a single outlier less once the filter has settled.
/// </summary>
internal sealed class KalmanPredictor : ILoadPredictor
{
    private readonly double _levelNoise;
    private readonly double _trendNoise;
    private readonly double _observationNoise;
    private double _level;
    private double _slope;

    // Covariance of (level, slope): [[p00, p01], [p01, p11]].
    private double _p00;
    private double _p01;
    private double _p11;
    private bool _initialized;

    public KalmanPredictor(double levelNoise, double trendNoise, double observationNoise)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(levelNoise);
        ArgumentOutOfRangeException.ThrowIfNegative(trendNoise);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(observationNoise);
        _levelNoise = levelNoise;
        _trendNoise = trendNoise;
        _observationNoise = observationNoise;
    }

    public string Name => LoadPredictors.Kalman;

    public void Observe(double value)
    {
        value = ConstantPredictor.Sanitize(value);
        if (!_initialized)
        {
            // A diffuse prior: the first observation sets the level, the slope is unknown.
            _level = value;
            _slope = 0;
            _p00 = _observationNoise;
            _p01 = 0;
            _p11 = 1e3 * Math.Max(1, _observationNoise);
            _initialized = true;
            return;
        }

        // Predict: x = F x, P = F P Fᵀ + Q with F = [[1, 1], [0, 1]].
        var level = _level + _slope;
        var slope = _slope;
        var p00 = _p00 + (2 * _p01) + _p11 + _levelNoise;
        var p01 = _p01 + _p11;
        var p11 = _p11 + _trendNoise;

        // Update with H = [1, 0]; noise scales with the series so the filter behaves the same at 0.1 and 100 req/s.
        var scale = Math.Max(1, Math.Abs(value));
        var innovation = value - level;
        var s = p00 + (_observationNoise * scale);
        var k0 = p00 / s;
        var k1 = p01 / s;
        _level = level + (k0 * innovation);
        _slope = slope + (k1 * innovation);
        _p00 = (1 - k0) * p00;
        _p01 = (1 - k0) * p01;
        _p11 = p11 - (k1 * p01);
    }

    public double Predict() => _initialized ? Math.Max(0, _level + _slope) : 0;
}
