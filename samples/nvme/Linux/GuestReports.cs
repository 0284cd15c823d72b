using System.Text.Json;

namespace ShadowIo.Samples.Nvme.Linux;

/// <summary>What fio reported for one job.</summary>
internal sealed record FioResult(string Job, double Iops, double MeanLatencyMicroseconds, long IoCount, int Error, string? Problem)
{
    /// <summary>Parses fio's <c>--output-format=json</c> text (anything before the first '{' is ignored).</summary>
    public static FioResult Parse(string job, string text, bool write)
    {
        int start = text.IndexOf('{', StringComparison.Ordinal);
        int end = text.LastIndexOf('}');
        if (start < 0 || end < start) return new FioResult(job, 0, 0, 0, -1, $"no fio JSON in: {Tail(text)}");
        try
        {
            using var doc = JsonDocument.Parse(text[start..(end + 1)]);
            var entry = doc.RootElement.GetProperty("jobs")[0];
            var side = entry.GetProperty(write ? "write" : "read");
            // For a verify job the read-back is the read side; the write side still carries the writes.
            double iops = side.GetProperty("iops").GetDouble();
            double latency = side.GetProperty("lat_ns").GetProperty("mean").GetDouble() / 1000.0;
            long ios = side.GetProperty("total_ios").GetInt64();
            int error = entry.GetProperty("error").GetInt32();
            return new FioResult(job, iops, latency, ios, error, error == 0 ? null : $"fio error {error}");
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or IndexOutOfRangeException)
        {
            return new FioResult(job, 0, 0, 0, -1, $"unreadable fio JSON: {e.Message}");
        }
    }

    private static string Tail(string text) => text.Length <= 400 ? text : text[^400..];
}

/// <summary>The fields of <c>nvme id-ctrl -o json</c> and <c>nvme id-ns -o json</c> the comparison checks.</summary>
internal sealed record IdentifyReport(int VendorId, string Serial, string Model, string Firmware, int Oacs, int Mdts, long NamespaceCount, long NamespaceSize, int LbaDataShift)
{
    public static IdentifyReport? Parse(string idCtrl, string idNs)
    {
        try
        {
            using var ctrl = JsonDocument.Parse(Json(idCtrl));
            using var ns = JsonDocument.Parse(Json(idNs));
            var c = ctrl.RootElement;
            var n = ns.RootElement;
            int flbas = n.GetProperty("flbas").GetInt32() & 0xf;
            int ds = n.GetProperty("lbafs")[flbas].GetProperty("ds").GetInt32();
            return new IdentifyReport(
                c.GetProperty("vid").GetInt32(),
                c.GetProperty("sn").GetString()!.Trim(),
                c.GetProperty("mn").GetString()!.Trim(),
                c.GetProperty("fr").GetString()!.Trim(),
                c.GetProperty("oacs").GetInt32(),
                c.GetProperty("mdts").GetInt32(),
                c.GetProperty("nn").GetInt64(),
                n.GetProperty("nsze").GetInt64(),
                ds);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or IndexOutOfRangeException or ArgumentException)
        {
            return null;
        }
    }

    private static string Json(string text)
    {
        int start = text.IndexOf('{', StringComparison.Ordinal);
        int end = text.LastIndexOf('}');
        return start < 0 || end < start ? "" : text[start..(end + 1)];
    }
}
