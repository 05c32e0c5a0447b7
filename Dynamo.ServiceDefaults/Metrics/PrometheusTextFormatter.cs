namespace Dynamo.ServiceDefaults.Metrics;

/// <summary>Writes instrument states as Prometheus text format 0.0.4: one HELP and TYPE per family, then its samples.</summary>
internal static class PrometheusTextFormatter
{
    public static void Write(TextWriter writer, IReadOnlyList<InstrumentState> states, Action<InstrumentState, PrometheusMetricType> onConflict)
    {
        // Instruments from different meters may share a family name; they are written together.
        var families = new SortedDictionary<string, List<InstrumentState>>(StringComparer.Ordinal);
        foreach (var state in states)
        {
            if (!families.TryGetValue(state.Name, out var members))
            {
                families[state.Name] = members = [];
            }

            if (members.Count > 0 && members[0].Type != state.Type)
            {
                onConflict(state, members[0].Type);
                continue;
            }

            members.Add(state);
        }

        var written = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, members) in families)
        {
            written.Clear();
            var headerWritten = false;
            foreach (var state in members)
            {
                foreach (var series in state.Series)
                {
                    if (state.IsObservable && series.Generation != state.Generation)
                    {
                        continue; // not reported by its callback in this scrape
                    }

                    if (!written.Add(series.Labels))
                    {
                        continue; // the same label set from a second instrument would be a duplicate series
                    }

                    if (!headerWritten)
                    {
                        writer.Write("# HELP ");
                        writer.Write(name);
                        writer.Write(' ');
                        writer.Write(PrometheusNaming.EscapeHelp(state.Help));
                        writer.Write("\n# TYPE ");
                        writer.Write(name);
                        writer.Write(state.Type switch
                        {
                            PrometheusMetricType.Counter => " counter\n",
                            PrometheusMetricType.Gauge => " gauge\n",
                            _ => " histogram\n",
                        });
                        headerWritten = true;
                    }

                    if (state.Type == PrometheusMetricType.Histogram)
                    {
                        WriteHistogram(writer, name, state.Boundaries, series);
                    }
                    else
                    {
                        WriteSample(writer, name, series.Labels, null, series.Value);
                    }
                }
            }
        }
    }

    private static void WriteHistogram(TextWriter writer, string name, double[] boundaries, MetricSeries series)
    {
        var bucketName = name + "_bucket";
        long cumulative = 0;
        for (var i = 0; i < boundaries.Length; i++)
        {
            cumulative += series.BucketCount(i);
            WriteSample(writer, bucketName, series.Labels, PrometheusNaming.FormatValue(boundaries[i]), cumulative);
        }

        cumulative += series.BucketCount(boundaries.Length);
        WriteSample(writer, bucketName, series.Labels, "+Inf", cumulative);
        WriteSample(writer, name + "_sum", series.Labels, null, series.Sum);
        // _count is derived from the buckets read above, so it always equals the +Inf bucket
        // even while measurements race with the scrape.
        WriteSample(writer, name + "_count", series.Labels, null, cumulative);
    }

    private static void WriteSample(TextWriter writer, string name, string labels, string? le, double value)
    {
        writer.Write(name);
        if (labels.Length > 0 || le is not null)
        {
            writer.Write('{');
            writer.Write(labels);
            if (le is not null)
            {
                if (labels.Length > 0)
                {
                    writer.Write(',');
                }

                writer.Write("le=\"");
                writer.Write(le);
                writer.Write('"');
            }

            writer.Write('}');
        }

        writer.Write(' ');
        writer.Write(PrometheusNaming.FormatValue(value));
        writer.Write('\n');
    }
}
