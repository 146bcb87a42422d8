#!/usr/bin/env bash
# A short fuzz run for CI: builds the targets (fuzz/build.sh), replays the committed seed
# corpus of each (every input must pass), then fuzzes each for SECONDS (default 15) from it.
# Any crash, panic or timeout fails the run and leaves its input in fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-15}"
./build.sh >/dev/null
target="$(rustc -vV | sed -n 's/^host: //p')"
bin="target/$target/release"
mkdir -p artifacts
for t in scenario tables trace merge run; do
    work="$(mktemp -d)"
    "$bin/$t" "$work" "corpus/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 \
        -artifact_prefix="artifacts/$t-" -print_final_stats=1 2>&1 |
        grep -E "^stat::number_of_executed_units|^Done|ERROR|SUMMARY" | sed "s/^/$t: /"
    rm -rf "$work"
done
