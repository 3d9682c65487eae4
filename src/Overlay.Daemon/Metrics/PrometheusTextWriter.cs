using System.Globalization;
using System.Text;

namespace Overlay.Daemon.Metrics;

/// <summary>
/// Prometheus text exposition format 0.0.4, written by hand (prometheus-net is not available here):
/// one HELP and TYPE line per family, then its samples; label values escaped (\\, \", \n).
/// </summary>
public sealed class PrometheusTextWriter
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";
    private readonly StringBuilder _sb = new();

    public PrometheusTextWriter Family(string name, string type, string help)
    {
        _sb.Append("# HELP ").Append(name).Append(' ').Append(help.Replace("\\", "\\\\").Replace("\n", "\\n")).Append('\n');
        _sb.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
        return this;
    }

    public PrometheusTextWriter Sample(string name, double value, params (string Name, string Value)[] labels)
    {
        _sb.Append(name);
        if (labels.Length > 0)
        {
            _sb.Append('{');
            for (int i = 0; i < labels.Length; i++)
            {
                if (i > 0) _sb.Append(',');
                _sb.Append(labels[i].Name).Append("=\"").Append(Escape(labels[i].Value)).Append('"');
            }
            _sb.Append('}');
        }
        _sb.Append(' ').Append(FormatValue(value)).Append('\n');
        return this;
    }

    public static string FormatValue(double v) =>
        double.IsPositiveInfinity(v) ? "+Inf" :
        double.IsNegativeInfinity(v) ? "-Inf" :
        double.IsNaN(v) ? "NaN" :
        v.ToString("R", CultureInfo.InvariantCulture);

    private static string Escape(string v) => v.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");

    public override string ToString() => _sb.ToString();
}

/// <summary>A cumulative histogram with fixed buckets (upper bounds in seconds). Thread-safe.</summary>
public sealed class Histogram(params double[] bounds)
{
    private readonly double[] _bounds = bounds.Order().ToArray();
    private readonly long[] _counts = new long[bounds.Length + 1];
    private double _sum;
    private readonly Lock _lock = new();

    public void Observe(double value)
    {
        lock (_lock)
        {
            int i = 0;
            while (i < _bounds.Length && value > _bounds[i]) i++;
            _counts[i]++;
            _sum += value;
        }
    }

    public void WriteTo(PrometheusTextWriter w, string name, params (string, string)[] labels)
    {
        lock (_lock)
        {
            long cumulative = 0;
            for (int i = 0; i < _bounds.Length; i++)
            {
                cumulative += _counts[i];
                w.Sample(name + "_bucket", cumulative, [.. labels, ("le", PrometheusTextWriter.FormatValue(_bounds[i]))]);
            }
            cumulative += _counts[^1];
            w.Sample(name + "_bucket", cumulative, [.. labels, ("le", "+Inf")]);
            w.Sample(name + "_sum", _sum, labels);
            w.Sample(name + "_count", cumulative, labels);
        }
    }
}
