using System.Diagnostics;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;

namespace ShadowIo.Generator.Tests.PackagedBuild;

/// <summary>
/// The ShadowIo package as a user gets it: <c>runtime/ShadowIo</c> packed (with the generator in
/// <c>analyzers/dotnet/cs</c>) into a local folder feed in a temp directory, once per test run.
/// Projects made here build offline: their only source is that feed, every other package comes
/// from the machine's NuGet cache or <c>/opt/nuget/packages</c> (fallback folders, so nothing is
/// downloaded), and restored packages go to a packages folder of the temp directory's own, so the
/// test version of ShadowIo never lands in the machine's cache.
/// </summary>
public sealed class PackagedShadowIo : IDisposable
{
    /// <summary>The version packed; unique to the temp directory's packages folder, so a fixed one is fine.</summary>
    public const string Version = "0.0.0-packaged-test";

    private readonly string _root;

    public PackagedShadowIo()
    {
        _root = Directory.CreateTempSubdirectory("shadowio-packaged-").FullName;
        string feed = Path.Combine(_root, "feed");
        string configuration = typeof(PackagedShadowIo).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";

        // --no-build: this test project's build built the runtime and the generator in its own
        // configuration (project references), which is what the package's None item picks up.
        // The nuspec goes to the temp directory, not the runtime's obj folder.
        DotnetResult pack = Dotnet(RepositoryRoot(),
            "pack", Path.Combine(RepositoryRoot(), "runtime", "ShadowIo", "ShadowIo.csproj"),
            "-c", configuration, "--no-build", "-o", feed,
            $"-p:Version={Version}", $"-p:NuspecOutputPath={Path.Combine(_root, "nuspec")}");
        PackagePath = Path.Combine(feed, $"ShadowIo.{Version}.nupkg");
        if (pack.ExitCode != 0 || !File.Exists(PackagePath))
        {
            throw new InvalidOperationException($"dotnet pack of the runtime failed (exit code {pack.ExitCode}):{Environment.NewLine}{pack.Output}");
        }

        string machineCache = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var fallback = new StringBuilder();
        foreach (string folder in new[] { machineCache, "/opt/nuget/packages" }.Where(Directory.Exists))
        {
            fallback.AppendLine(System.Globalization.CultureInfo.InvariantCulture, $"""    <add key="{folder}" value="{folder}" />""");
        }

        File.WriteAllText(Path.Combine(_root, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="packaged-shadowio" value="{feed}" />
              </packageSources>
              <fallbackPackageFolders>
                <clear />
            {fallback}  </fallbackPackageFolders>
              <config>
                <add key="globalPackagesFolder" value="{Path.Combine(_root, "packages")}" />
              </config>
            </configuration>
            """);

        // Nothing of the repository's (or anyone's) build customization above the projects.
        File.WriteAllText(Path.Combine(_root, "Directory.Build.props"), "<Project />");
        File.WriteAllText(Path.Combine(_root, "Directory.Build.targets"), "<Project />");
        File.WriteAllText(Path.Combine(_root, "Directory.Packages.props"), "<Project />");
    }

    /// <summary>The packed .nupkg.</summary>
    public string PackagePath { get; }

    /// <summary>
    /// A new class library in its own folder referencing the package, with <paramref name="files"/>
    /// (name → source) in it, restored once. Warnings are errors, as in most CI builds.
    /// </summary>
    public UserProject CreateProject(string name, IReadOnlyDictionary<string, string> files)
    {
        string directory = Path.Combine(_root, name);
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, name + ".csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="ShadowIo" Version="{Version}" />
              </ItemGroup>
            </Project>
            """);
        foreach ((string file, string source) in files) File.WriteAllText(Path.Combine(directory, file), source);

        DotnetResult restore = Dotnet(directory, "restore", "-nodeReuse:false");
        if (restore.ExitCode != 0)
        {
            throw new InvalidOperationException($"dotnet restore of {name} failed (exit code {restore.ExitCode}):{Environment.NewLine}{restore.Output}");
        }

        return new UserProject(directory);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // A build server still closing a file: the temp directory is left to the OS.
        }
    }

    /// <summary>
    /// Runs the dotnet CLI with an environment of its own: the MSBuild variables a test host run
    /// by <c>dotnet test</c> inherits would point the child build at the parent's MSBuild, and
    /// NUGET_PACKAGES would override the temp packages folder. No node reuse and no shared
    /// compiler server, so no process outlives the build.
    /// </summary>
    public static DotnetResult Dotnet(string workingDirectory, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        foreach (string key in start.Environment.Keys.ToList())
        {
            if (key.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || key is "NUGET_PACKAGES" or "DOTNET_HOST_PATH") start.Environment.Remove(key);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        start.Environment["MSBUILDTERMINALLOGGER"] = "off";
        start.Environment["UseSharedCompilation"] = "false";

        using var process = Process.Start(start)!;
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.WaitForExit();
        lock (output) return new DotnetResult(process.ExitCode, output.ToString());
    }

    private static string RepositoryRoot([CallerFilePath] string thisFile = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(thisFile)!, "..", "..", ".."));
}

/// <summary>What one dotnet command printed (stdout and stderr interleaved) and its exit code.</summary>
public sealed record DotnetResult(int ExitCode, string Output);

/// <summary>A restored project outside the solution that references the packed ShadowIo.</summary>
public sealed record UserProject(string Directory)
{
    /// <summary><c>dotnet build --no-restore</c> of the project.</summary>
    public DotnetResult Build() => PackagedShadowIo.Dotnet(Directory, "build", "--no-restore", "-nodeReuse:false", "-clp:NoSummary", "-p:UseSharedCompilation=false");
}
