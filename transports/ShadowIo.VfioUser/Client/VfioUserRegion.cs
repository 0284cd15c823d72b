namespace ShadowIo.VfioUser.Client;

/// <summary>A region as the server described it (GET_REGION_INFO): BAR0–5 are 0–5, config space 7.</summary>
/// <param name="Index">The region index.</param>
/// <param name="Size">Bytes; 0 for an absent BAR.</param>
/// <param name="Readable">The READ flag.</param>
/// <param name="Writable">The WRITE flag.</param>
public sealed record VfioUserRegion(uint Index, ulong Size, bool Readable, bool Writable);
