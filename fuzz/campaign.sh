#!/usr/bin/env bash
# A fuzz campaign: each target for a number of executions, starting from the committed seed
# corpus (new inputs go to a working copy). Crashes land in fuzz/artifacts/. Usage:
#   fuzz/campaign.sh RUNS_SCENARIO RUNS_TABLES RUNS_RUN RUNS_TRACE RUNS_MERGE
set -uo pipefail
cd "$(dirname "$0")"
target="$(rustc -vV | sed -n 's/^host: //p')"
bin="target/$target/release"
mkdir -p artifacts work
i=1
for t in scenario tables run trace merge; do
    runs="${!i}"; i=$((i + 1))
    mkdir -p "work/$t"
    echo "== $t: $runs executions"
    "$bin/$t" "work/$t" "corpus/$t" -runs="$runs" -timeout=20 -rss_limit_mb=4096 \
        -artifact_prefix="artifacts/$t-" -print_final_stats=1 2>&1 |
        grep -E "^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)|^Done|crash-|panicked|ERROR|SUMMARY|deadly" || true
done
ls artifacts
