namespace ShadowIo.Linux.Tests.Infrastructure;

/// <summary>Locates the repository (the directory holding guest/setup.sh) from the test binary.</summary>
public static class RepositoryPaths
{
    private static readonly Lazy<string> RootPath = new(FindRoot);

    public static string Root => RootPath.Value;

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "guest", "setup.sh")) && File.Exists(Path.Combine(dir.FullName, "ShadowIo.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException($"no ShadowIo repository (guest/setup.sh beside ShadowIo.sln) above {AppContext.BaseDirectory}");
    }
}
