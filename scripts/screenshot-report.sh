#!/usr/bin/env bash
# Renders a ratesim index.html in headless Chromium and saves a full-page screenshot, to check
# what a colleague will see (the page is self-contained: no network is needed or used).
#
#   scripts/screenshot-report.sh output/burst/index.html /tmp/burst.png [WIDTHxHEIGHT]
#
# Needs Debian's chromium (apt-get install chromium); installs it when run as root.
set -euo pipefail
page=${1:?usage: $0 PAGE.html OUT.png [WIDTHxHEIGHT]}
out=${2:?usage: $0 PAGE.html OUT.png [WIDTHxHEIGHT]}
size=${3:-1280x4000}
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq chromium >/dev/null
  else
    echo "chromium is not installed: apt-get install chromium" >&2
    exit 1
  fi
fi
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --hide-scrollbars \
  --window-size="${size/x/,}" --screenshot="$(realpath -m "$out")" \
  "file://$(realpath "$page")" 2>/dev/null
echo "wrote $out"
