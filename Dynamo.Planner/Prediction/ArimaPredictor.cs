namespace Dynamo.Planner.Prediction;

/// <summary>
/// ARIMA(p, 1, 0) with drift: an autoregression of order p on the first differences, refitted by least squares over
/// the last <c>window</c> values at every prediction. Differencing makes a ramp a constant (the drift term carries it);
/// AR(2) on differences reproduces a sinusoid exactly. With too little history it is a random walk (last value).
/// </summary>
internal sealed class ArimaPredictor : ILoadPredictor
{
    private readonly int _order;
    private readonly double[] _history;
    private int _count;

    public ArimaPredictor(int order, int window)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(order, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(window, (2 * order) + 3);
        _order = order;
        _history = new double[window];
    }

    public string Name => LoadPredictors.Arima;

    public void Observe(double value)
    {
        value = ConstantPredictor.Sanitize(value);
        if (_count == _history.Length)
        {
            Array.Copy(_history, 1, _history, 0, _history.Length - 1);
            _history[^1] = value;
            return;
        }

        _history[_count++] = value;
    }

    public double Predict()
    {
        if (_count == 0)
        {
            return 0;
        }

        var last = _history[_count - 1];
        var diffs = new double[_count - 1];
        for (var i = 1; i < _count; i++)
        {
            diffs[i - 1] = _history[i] - _history[i - 1];
        }

        // Rows: d[t] ~ c + Σ φᵢ d[t−i]; needs more rows than unknowns to be a fit rather than an interpolation.
        var unknowns = _order + 1;
        var rows = diffs.Length - _order;
        if (rows < unknowns + 1)
        {
            return last;
        }

        var normal = new double[unknowns, unknowns];
        var rhs = new double[unknowns];
        var x = new double[unknowns];
        for (var t = _order; t < diffs.Length; t++)
        {
            x[0] = 1;
            for (var i = 1; i <= _order; i++)
            {
                x[i] = diffs[t - i];
            }

            for (var a = 0; a < unknowns; a++)
            {
                rhs[a] += x[a] * diffs[t];
                for (var b = 0; b < unknowns; b++)
                {
                    normal[a, b] += x[a] * x[b];
                }
            }
        }

        // A tiny ridge keeps a flat series (all differences zero) solvable.
        for (var a = 0; a < unknowns; a++)
        {
            normal[a, a] += 1e-9;
        }

        var coefficients = Solve(normal, rhs);
        var next = coefficients[0];
        for (var i = 1; i <= _order; i++)
        {
            next += coefficients[i] * diffs[^i];
        }

        var forecast = last + next;
        return double.IsFinite(forecast) ? Math.Max(0, forecast) : last;
    }

    /// <summary>Gaussian elimination with partial pivoting on a small dense system.</summary>
    private static double[] Solve(double[,] a, double[] b)
    {
        var n = b.Length;
        for (var col = 0; col < n; col++)
        {
            var pivot = col;
            for (var row = col + 1; row < n; row++)
            {
                if (Math.Abs(a[row, col]) > Math.Abs(a[pivot, col]))
                {
                    pivot = row;
                }
            }

            if (pivot != col)
            {
                for (var k = 0; k < n; k++)
                {
                    (a[col, k], a[pivot, k]) = (a[pivot, k], a[col, k]);
                }

                (b[col], b[pivot]) = (b[pivot], b[col]);
            }

            for (var row = col + 1; row < n; row++)
            {
                var factor = a[row, col] / a[col, col];
                for (var k = col; k < n; k++)
                {
                    a[row, k] -= factor * a[col, k];
                }

                b[row] -= factor * b[col];
            }
        }

        var solution = new double[n];
        for (var row = n - 1; row >= 0; row--)
        {
            var sum = b[row];
            for (var k = row + 1; k < n; k++)
            {
                sum -= a[row, k] * solution[k];
            }

            solution[row] = sum / a[row, row];
        }

        return solution;
    }
}
