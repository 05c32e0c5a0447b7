namespace Dynamo.Planner.Prediction;

/// <summary>Next interval looks like the last one: reacts at once, never anticipates.</summary>
internal sealed class ConstantPredictor : ILoadPredictor
{
    private double _last;

    public string Name => LoadPredictors.Constant;

    public void Observe(double value) => _last = Sanitize(value);

    public double Predict() => _last;

    internal static double Sanitize(double value) => double.IsFinite(value) && value > 0 ? value : 0;
}

/// <summary>Mean of the last <c>window</c> observations: smooths bursts at the cost of lagging ramps.</summary>
internal sealed class MovingAveragePredictor : ILoadPredictor
{
    private readonly double[] _values;
    private int _count;
    private int _next;

    public MovingAveragePredictor(int window)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 1);
        _values = new double[window];
    }

    public string Name => LoadPredictors.MovingAverage;

    public void Observe(double value)
    {
        _values[_next] = ConstantPredictor.Sanitize(value);
        _next = (_next + 1) % _values.Length;
        _count = Math.Min(_count + 1, _values.Length);
    }

    public double Predict()
    {
        if (_count == 0)
        {
            return 0;
        }

        var sum = 0.0;
        for (var i = 0; i < _count; i++)
        {
            sum += _values[i];
        }

        return sum / _count;
    }
}

/// <summary>Holt's double exponential smoothing: a level and a trend, so a ramp is extrapolated one step ahead.</summary>
internal sealed class HoltPredictor : ILoadPredictor
{
    private readonly double _alpha;
    private readonly double _beta;
    private double _level;
    private double _trend;
    private int _count;

    public HoltPredictor(double alpha, double beta)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(alpha);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(alpha, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(beta);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(beta, 1);
        _alpha = alpha;
        _beta = beta;
    }

    public string Name => LoadPredictors.Holt;

    public void Observe(double value)
    {
        value = ConstantPredictor.Sanitize(value);
        switch (_count++)
        {
            case 0:
                _level = value;
                return;
            case 1:
                _trend = value - _level;
                _level = value;
                return;
        }

        var previous = _level;
        _level = (_alpha * value) + ((1 - _alpha) * (_level + _trend));
        _trend = (_beta * (_level - previous)) + ((1 - _beta) * _trend);
    }

    public double Predict() => Math.Max(0, _level + _trend);
}
