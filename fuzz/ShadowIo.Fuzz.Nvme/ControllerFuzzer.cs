namespace ShadowIo.Fuzz.Nvme;

/// <summary>
/// Issue 5's property run over the controller: episodes of random hostile input from a seeded
/// source (the command line runs millions) or from CsCheck-generated words (the test slice).
/// </summary>
public static class ControllerFuzzer
{
    /// <summary>Inputs per episode: long enough to build up queues and state, short enough to reset often.</summary>
    public const int InputsPerEpisode = 400;

    /// <summary>Runs episodes until <paramref name="inputs"/> inputs have been tried.</summary>
    public static FuzzReport Run(long inputs, int seed, Action<FuzzReport>? progress = null)
    {
        var report = new FuzzReport();
        using var ram = new GuestRam(FuzzLayout.Base, FuzzLayout.RamSize);
        int episode = 0;
        while (report.Inputs < inputs)
        {
            int episodeSeed = unchecked(seed * 1_000_003 + episode); // Deterministic (HashCode is randomised per process).
            int count = (int)Math.Min(InputsPerEpisode, inputs - report.Inputs);
            new FuzzEpisode(FuzzSource.FromSeed(episodeSeed), ram, report, $"seed {seed} episode {episode} (episode seed {episodeSeed})").Run(count);
            episode++;
            if (episode % 100 == 0) progress?.Invoke(report);
        }
        return report;
    }

    /// <summary>One episode from a seed (replays a failure the command line printed).</summary>
    public static FuzzReport RunEpisode(int episodeSeed, int inputs = InputsPerEpisode)
    {
        var report = new FuzzReport();
        using var ram = new GuestRam(FuzzLayout.Base, FuzzLayout.RamSize);
        new FuzzEpisode(FuzzSource.FromSeed(episodeSeed), ram, report, $"episode seed {episodeSeed}").Run(inputs);
        return report;
    }

    /// <summary>One episode whose every choice comes from <paramref name="words"/> (CsCheck shrinks these).</summary>
    public static FuzzReport RunWords(uint[] words)
    {
        var report = new FuzzReport();
        using var ram = new GuestRam(FuzzLayout.Base, FuzzLayout.RamSize);
        new FuzzEpisode(FuzzSource.FromWords(words), ram, report, $"{words.Length} words").Run(int.MaxValue);
        return report;
    }
}
