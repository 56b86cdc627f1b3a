#!/usr/bin/env bash
# The packages as a user consumes them. Packs every library under a fresh version into artifacts/packages, then:
#  1. creates a console project in a temporary folder (dotnet new console), adds SharpGpt from that folder, and
#     runs as its Program.cs each C# snippet of README's "Use SharpGPT from C#" section in turn (the snippets
#     are marked <!-- snippet: NAME -->, so README and this check cannot drift), checking what each prints;
#  2. builds and runs samples/CapitalsChat against the same packages.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
version="0.2.0-check.$(date -u +%Y%m%d%H%M%S)"
feed="$root/artifacts/packages"
mkdir -p "$feed"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "check-consumer: packing $version into $feed"
for project in SharpGpt SharpGpt.Cuda SharpGpt.Parquet SharpGpt.Plots SharpGpt.Server; do
    dotnet pack "src/$project" -c Release -o "$feed" -p:Version="$version" --nologo -v quiet >/dev/null
    test -f "$feed/$project.$version.nupkg" || { echo "check-consumer: $project.$version.nupkg was not made" >&2; exit 1; }
    test -f "$feed/$project.$version.snupkg" || { echo "check-consumer: $project.$version.snupkg (symbols) was not made" >&2; exit 1; }
done

cat > "$work/nuget.config" <<CONFIG
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="local" value="$feed" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" protocolVersion="3" />
  </packageSources>
</configuration>
CONFIG
dotnet new console -o "$work/app" --framework net10.0 >/dev/null
cd "$work/app"
dotnet add package SharpGpt --version "$version" >/dev/null
dotnet add package Microsoft.Extensions.DependencyInjection --version 10.0.0 >/dev/null

# Each snippet: its name, then its code, as README has them.
snippets=$(awk '/<!-- snippet: [a-z-]+ -->/ { match($0, /snippet: [a-z-]+/); name = substr($0, RSTART + 9, RLENGTH - 9); next }
               name != "" && /^```csharp/ { inside = 1; file = name; next }
               inside && /^```/ { inside = 0; name = ""; next }
               inside { print > ("'"$work"'/" file ".cs") }
               END {}' "$root/README.md"; ls "$work"/*.cs 2>/dev/null | xargs -n1 basename | sed 's/\.cs$//')
[ -n "$snippets" ] || { echo "check-consumer: no snippets found in README.md" >&2; exit 1; }
for name in train-and-generate load-and-stream chat-client fine-tune; do
    [ -f "$work/$name.cs" ] || { echo "check-consumer: README.md has no snippet '$name'" >&2; exit 1; }
    cp "$work/$name.cs" Program.cs
    echo "check-consumer: snippet $name"
    output=$(dotnet run -c Release 2>&1) || { echo "$output" >&2; echo "check-consumer: snippet $name failed" >&2; exit 1; }
    echo "$output" | sed 's/^/    /'
    case "$name" in
        train-and-generate) echo "$output" | grep -Eq '^validation loss [0-9.]+$' && [ "$(echo "$output" | wc -c)" -gt 150 ] ;;
        load-and-stream) echo "$output" | grep -Eq '^loss [0-9.]+, perplexity [0-9.]+$' && [ "$(echo "$output" | wc -c)" -gt 200 ] ;;
        chat-client) echo "$output" | grep -Eq '^[0-9]+ prompt tokens, [0-9]+ generated$' ;;
        fine-tune) echo "$output" | grep -Eq '^fine-tuned: validation loss [0-9.]+ -> [0-9.]+$' ;;
    esac || { echo "check-consumer: snippet $name did not print what it should" >&2; exit 1; }
done

echo "check-consumer: samples/CapitalsChat"
cd "$root/samples/CapitalsChat"
rm -rf bin obj
output=$(cd "$work" && dotnet run -c Release --project "$root/samples/CapitalsChat" -p:SharpGptVersion="$version" 2>&1) \
    || { echo "$output" >&2; echo "check-consumer: the sample failed" >&2; exit 1; }
echo "$output" | sed 's/^/    /'
echo "$output" | grep -Eq '^trained 300 steps .*first loss [0-9.]+, last loss [0-9.]+' && echo "$output" | grep -Eq '^Assistant: .+' \
    || { echo "check-consumer: the sample did not print its losses and a reply" >&2; exit 1; }
rm -rf bin obj
echo "check-consumer: OK ($version)"
