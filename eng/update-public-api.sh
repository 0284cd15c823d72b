#!/usr/bin/env bash
# Regenerates PublicAPI.Unshipped.txt of every shipped library (each project that imports
# eng/ShippedLibrary.props) from what the compiler sees, using the PublicApiAnalyzers' own
# diagnostics:
#   RS0016 (public, not declared)  -> a line in PublicAPI.Unshipped.txt (the analyzer's exact text)
#   RS0017 (declared in PublicAPI.Shipped.txt, gone) -> "*REMOVED*<line>" in PublicAPI.Unshipped.txt
# PublicAPI.Shipped.txt is never touched: moving lines there is a release decision.
# Run it after changing (or merging changes to) a public surface, then review `git diff`.
#
#   eng/update-public-api.sh            # every shipped library
#   eng/update-public-api.sh --check    # rebuild, fail if any Unshipped file would change
#
# Needs the .NET SDK and python3. Rebuilds the shipped libraries (and what they reference),
# so it takes a minute or two on a 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."

check=false
case "${1:-}" in
  --check) check=true ;;
  "") ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

mapfile -t projects < <(git ls-files '*.csproj' | xargs grep -l 'eng/ShippedLibrary.props' | sort)
if [ "${#projects[@]}" -eq 0 ]; then
  echo "no project imports eng/ShippedLibrary.props" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_CLI_UI_LANGUAGE=en

# Start every Unshipped file empty, so the build reports each member not in Shipped (RS0016).
for project in "${projects[@]}"; do
  dir=$(dirname "$project")
  cp "$dir/PublicAPI.Unshipped.txt" "$work/$(basename "$dir").before" 2>/dev/null || : > "$work/$(basename "$dir").before"
  printf '#nullable enable\n' > "$dir/PublicAPI.Unshipped.txt"
  [ -f "$dir/PublicAPI.Shipped.txt" ] || printf '#nullable enable\n' > "$dir/PublicAPI.Shipped.txt"
done

restore_before() {
  for project in "${projects[@]}"; do
    dir=$(dirname "$project")
    cp "$work/$(basename "$dir").before" "$dir/PublicAPI.Unshipped.txt"
  done
}

# The API diagnostics stay warnings here (they are errors in every other build), so one build
# reports all of them; --no-incremental makes the compiler run even where nothing changed.
for project in "${projects[@]}"; do
  if ! dotnet build "$project" --no-incremental -nologo -v:q -clp:NoSummary \
      -p:TreatWarningsAsErrors=false \
      -p:PublicApiSarifDirectory="$work" >"$work/build.log" 2>&1; then
    # Anything but the API diagnostics (a compile error) stops here, files as they were.
    grep -E ': error ' "$work/build.log" | sort -u >&2 || cat "$work/build.log" >&2
    restore_before
    echo "build of $project failed; Unshipped files left as they were" >&2
    exit 1
  fi
done

changed=0
for project in "${projects[@]}"; do
  dir=$(dirname "$project")
  name=$(basename "$project" .csproj)
  sarif="$work/$name.sarif"
  [ -f "$sarif" ] || { echo "no SARIF log for $project" >&2; restore_before; exit 1; }
  if ! python3 - "$sarif" "$dir/PublicAPI.Unshipped.txt" <<'PY'
import json, re, sys
sarif, unshipped = sys.argv[1], sys.argv[2]
added, removed, other = set(), set(), []
for run in json.load(open(sarif, encoding="utf-8"))["runs"]:
    for result in run.get("results", []):
        rule = result.get("ruleId")
        text = result.get("message", {}).get("text", "")
        props = result.get("properties", {}).get("customProperties", {})
        if rule == "RS0016":
            # The analyzer's code fix writes exactly this property; the message has a short name.
            added.add(props["APIName"])
        elif rule == "RS0017":
            m = re.match(r"Symbol '(.*)' is part of the declared API", text)
            if not m:
                sys.exit(f"RS0017 with an unexpected message: {text}")
            removed.add("*REMOVED*" + m.group(1))
        elif rule and rule.startswith("RS00"):
            other.append(f"{rule}: {text}")
if other:
    # Annotation/nullability/overload rules need a decision in code, not a regenerated line.
    print("\n".join(sorted(set(other))), file=sys.stderr)
lines = sorted(added) + sorted(removed)
with open(unshipped, "w", encoding="utf-8", newline="\n") as f:
    f.write("#nullable enable\n")
    for line in lines:
        f.write(line + "\n")
print(f"{unshipped}: {len(added)} declared, {len(removed)} removed from Shipped")
PY
  then
    restore_before
    echo "could not read $sarif; Unshipped files left as they were" >&2
    exit 1
  fi
  if ! cmp -s "$work/$(basename "$dir").before" "$dir/PublicAPI.Unshipped.txt"; then changed=1; fi
done

if $check; then
  restore_before
  if [ "$changed" -ne 0 ]; then
    echo "the declared public API is out of date: run eng/update-public-api.sh" >&2
    exit 1
  fi
  echo "the declared public API is up to date"
fi
