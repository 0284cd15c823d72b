using System.Text.Json;
using ShadowIo.Samples.Nvme.Guest;

namespace ShadowIo.Samples.Nvme.Commands;

/// <summary>
/// <c>{"modes": [{"mode", "ios", "verified", "doorbell_writes", "userspace_exits", "iops_qd1",
/// "iops_qd32"}, ...]}</c> plus detail fields. An unsupported mode has <c>"supported": false</c>,
/// its <c>"reason"</c>, and null measurements. <c>"iops_qd32"</c> is measured at
/// <c>"queue_depth"</c> (32 unless --queue-depth says otherwise); <c>"transport"</c> says where the
/// controller ran (<c>in-process</c> or <c>vfio-user</c>).
/// </summary>
internal static class JsonReport
{
    public static void Write(Stream output, IReadOnlyList<ModeResult> results, WorkloadOptions options)
    {
        using var json = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteString("transport", options.Transport.Name());
        json.WriteNumber("blocks", options.Blocks);
        json.WriteNumber("block_bytes", WorkloadOptions.BlockBytes);
        json.WriteNumber("queue_depth", options.QueueDepth);
        json.WriteNumber("rounds", options.Rounds);
        json.WriteString("namespace", options.BackingFile is null ? "memory" : options.BackingFile);
        json.WriteStartArray("modes");
        foreach (var r in results)
        {
            json.WriteStartObject();
            json.WriteString("mode", r.Mode.Name());
            json.WriteBoolean("supported", r.Supported);
            if (!r.Supported)
            {
                json.WriteString("reason", r.UnsupportedReason);
                foreach (var name in (string[])["ios", "verified", "doorbell_writes", "userspace_exits", "iops_qd1", "iops_qd32"])
                    json.WriteNull(name);
            }
            else
            {
                json.WriteNumber("ios", r.Ios);
                json.WriteBoolean("verified", r.Verified);
                json.WriteNumber("verified_blocks", r.VerifiedBlocks);
                json.WriteNumber("doorbell_writes", r.DoorbellWrites);
                json.WriteNumber("suppressed_doorbells", r.SuppressedDoorbells);
                json.WriteNumber("userspace_exits", r.UserspaceExits);
                json.WriteNumber("setup_userspace_exits", r.SetupExits);
                json.WriteNumber("ns_per_doorbell", Math.Round(r.NsPerDoorbell, 1));
                json.WriteNumber("iops_qd1", Math.Round(r.IopsQd1));
                json.WriteNumber("iops_qd32", Math.Round(r.IopsHighDepth));
            }
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
        json.Flush();
        output.WriteByte((byte)'\n');
    }
}
