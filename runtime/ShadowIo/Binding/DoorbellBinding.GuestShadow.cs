namespace ShadowIo.Binding;

public sealed partial class DoorbellBinding
{
    /// <summary>
    /// Guest-shadow mode: the guest has named a page of its RAM (NVMe Doorbell Buffer Config PRP1)
    /// where it stores each doorbell value before ringing. Registers a wildcard ioeventfd for every
    /// bound value doorbell, so rings stop exiting to userspace; <see cref="Shadow"/> becomes
    /// <paramref name="guestShadow"/>. Attaching again replaces the page.
    /// </summary>
    /// <remarks>
    /// The binding owns only where doorbell values are and which rows exit. The device protocol
    /// around the page (validating the command, EventIdx and when to re-read, dropping the pages on
    /// reset) belongs to the device, which runs it the same way with no binding at all (a trapping
    /// transport in another process): the NVMe controller keeps the EventIdx page, not the binding.
    /// </remarks>
    /// <param name="guestShadow">The guest page, from <see cref="GuestMemory.TryGetShadowRegion"/>.</param>
    public void AttachGuestShadow(ShadowRegion guestShadow)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (Mode != DoorbellBindingMode.GuestShadow)
            throw new InvalidOperationException($"AttachGuestShadow needs DoorbellBindingMode.GuestShadow; this binding is {Mode}.");
        if (guestShadow.Length < Math.Max(Table.ShadowSize, Doorbells.RequiredShadowLength))
            throw new ArgumentException($"The guest shadow region ({guestShadow.Length} bytes) is shorter than block '{Table.BlockName}''s shadow layout ({Table.ShadowSize} bytes).", nameof(guestShadow));
        // Values first, then ioeventfds: a ring that no longer exits must find its value in the new page.
        Doorbells.RedirectValues(guestShadow);
        Volatile.Write(ref _guestShadowAttached, true);
        for (int row = 0; row < Table.Count; row++)
        {
            if (!Doorbells.IsBound(row) || Table[row].Kind != DoorbellKind.Value || _assigned[row].HasValue) continue;
            Assign(row, Registration(row));
            Doorbells.SetTrapped(row, false);
        }
    }

    /// <summary>
    /// Back to trapping value doorbells (the controller was disabled or reset): deassigns the
    /// wildcard ioeventfds, copies the last values into the binding's own shadow page and makes it
    /// <see cref="Shadow"/> again.
    /// </summary>
    public void DetachGuestShadow()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (!Volatile.Read(ref _guestShadowAttached)) return;
        var guestValues = Doorbells.Shadow;
        for (int row = 0; row < Table.Count; row++)
        {
            if (!Doorbells.IsBound(row) || Table[row].Kind != DoorbellKind.Value) continue;
            Doorbells.SetTrapped(row, true);
            Deassign(row);
            ref readonly var e = ref Table[row];
            if (e.ShadowOffset <= guestValues.Length - e.Width)
                ShadowPage.Write(e.ShadowOffset, e.Width, guestValues.Read(e.ShadowOffset, e.Width));
        }
        Doorbells.RedirectValues(ShadowPage);
        Volatile.Write(ref _guestShadowAttached, false);
    }
}
