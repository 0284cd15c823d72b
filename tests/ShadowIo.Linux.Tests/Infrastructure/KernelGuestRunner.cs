using ShadowIo.LinuxGuest;

namespace ShadowIo.Linux.Tests.Infrastructure;

/// <summary>
/// kernel/ShadowIo.KernelGuest published NativeAOT for linux-x64: the program that runs the
/// binding checks inside the TCG guest. Published once per test process (incremental: an
/// unchanged project relinks nothing).
/// </summary>
public static class KernelGuestRunner
{
    private static readonly SemaphoreSlim PublishLock = new(1, 1);
    private static string? publishedPath;

    public const string GuestPath = "/shadowio/shadowio-kernel-guest";

    public static async Task<string> PublishAsync(CancellationToken cancellationToken = default)
    {
        if (publishedPath is { } ready)
            return ready;
        await PublishLock.WaitAsync(cancellationToken);
        try
        {
            if (publishedPath is null)
            {
                var project = Path.Combine(RepositoryPaths.Root, "kernel", "ShadowIo.KernelGuest", "ShadowIo.KernelGuest.csproj");
                var output = Path.Combine(AppContext.BaseDirectory, "kernel-guest-runner", "publish");
                // Its own obj/bin tree: a linux-x64 restore must not rewrite the project.assets.json
                // of the runtime projects that the ordinary (RID-less) build uses.
                var artifacts = Path.Combine(AppContext.BaseDirectory, "kernel-guest-runner", "artifacts");
                // The test host's MSBuild variables would point a nested build at the outer one's SDK state.
                var environment = new Dictionary<string, string?>
                {
                    ["MSBuildExtensionsPath"] = null,
                    ["MSBUILD_EXE_PATH"] = null,
                    ["MSBuildSDKsPath"] = null,
                    ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
                    ["DOTNET_NOLOGO"] = "1",
                };
                var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
                var result = await ScriptRunner.RunAsync(dotnet,
                    ["publish", project, "-c", "Release", "-r", "linux-x64", "--artifacts-path", artifacts, "-o", output, "-nologo", "-v:q"],
                    TimeSpan.FromMinutes(20), environment, cancellationToken: cancellationToken);
                var binary = Path.Combine(output, "shadowio-kernel-guest");
                if (result.ExitCode != 0 || !File.Exists(binary))
                {
                    throw new InvalidOperationException(
                        $"dotnet publish of the kernel guest runner failed (exit {result.ExitCode}):\n"
                        + ScriptRunner.Tail(result.StandardOutput + result.StandardError, 40));
                }
                publishedPath = binary;
            }
            return publishedPath;
        }
        finally
        {
            PublishLock.Release();
        }
    }
}
