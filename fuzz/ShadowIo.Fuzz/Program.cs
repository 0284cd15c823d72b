using SharpFuzz;
using ShadowIo.Fuzz;

// shadowio-fuzz TARGET             one input from stdin; under afl-fuzz, SharpFuzz's fork-server loop
// shadowio-fuzz TARGET FILE...     replays files (triage: prints each outcome, exits 1 if any failed)
// shadowio-fuzz seeds TARGET DIR   writes the seed corpus the campaign starts from
// shadowio-fuzz property [--inputs N] [--seed N] [--episode SEED]
//                                  the NVMe controller's property run (no AFL, no KVM; see --help)
if (args is [PropertyCommand.Name, ..]) return PropertyCommand.Run(args);
if (args.Length == 3 && args[0] == "seeds")
{
    int written = Seeds.Write(args[1], args[2]);
    Console.WriteLine($"{written} seeds for {args[1]} in {args[2]}");
    return 0;
}
if (args.Length < 1 || !FuzzTargets.Names.Contains(args[0]))
{
    Console.Error.WriteLine($"usage: shadowio-fuzz {string.Join("|", FuzzTargets.Names)} [FILE...] | seeds TARGET DIR | {PropertyCommand.Name} [--inputs N] [--seed N] [--episode SEED]");
    return 2;
}
var target = FuzzTargets.Get(args[0]);
if (args.Length > 1)
{
    int failed = 0;
    foreach (var file in args[1..])
    {
        try
        {
            target(File.ReadAllBytes(file));
            Console.WriteLine($"ok    {file}");
        }
        catch (Exception e)
        {
            failed++;
            Console.WriteLine($"FAIL  {file}: {e}");
        }
    }
    return failed == 0 ? 0 : 1;
}
if (Environment.GetEnvironmentVariable("__AFL_SHM_ID") is null)
{
    // Not under afl-fuzz: one input, and an exception is an ordinary crash with its stack trace.
    using var stdin = Console.OpenStandardInput();
    using var copy = new MemoryStream();
    stdin.CopyTo(copy);
    target(copy.ToArray());
    return 0;
}
var buffer = new MemoryStream();
Fuzzer.Run(stream =>
{
    buffer.SetLength(0);
    stream.CopyTo(buffer);
    target(buffer.ToArray());
});
return 0;
