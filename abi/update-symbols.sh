#!/usr/bin/env bash
# Regenerates abi/symbols.txt from a built libcano.so. Run it after adding C API functions, and
# commit the result with them; tests/abi/check-symbols.sh fails until the file matches.
#
# usage: abi/update-symbols.sh [BUILD_DIR | LIBRARY]      (default: build)
#
# Each line is "symbol since-version [notes]". Symbols already listed keep their line (their
# since-version and any notes, such as "deprecated 0.3.0"); new symbols get the version of the
# library they were found in (from its file name, libcano.so.MAJOR.MINOR.PATCH). Symbols that
# vanished are dropped with a warning: once released, removing one is an ABI break.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target=${1:-$root/build}
list="$root/abi/symbols.txt"

if [[ -d $target ]]; then
  lib="$target/libcano.so"
else
  lib=$target
fi
[[ -e $lib ]] || { echo "update-symbols.sh: no library at $lib (build first)" >&2; exit 2; }
real="$(readlink -f "$lib")"
version="$(sed -n 's/.*\.so\.\([0-9]*\.[0-9]*\.[0-9]*\)$/\1/p' <<<"$real")"
[[ -n $version ]] || { echo "update-symbols.sh: cannot read a version from $real" >&2; exit 2; }

exported="$("$root/abi/exported-symbols.sh" "$lib")"
foreign="$(grep -v '^cano_' <<<"$exported" || true)"
if [[ -n $foreign ]]; then
  echo "update-symbols.sh: refusing to record symbols that are not cano_*:" >&2
  sed 's/^/  /' <<<"$foreign" >&2
  exit 1
fi

old=""
[[ -f $list ]] && old="$(cat "$list")"
tmp="$(mktemp)"
trap 'rm -f "$tmp"' EXIT
# Old lines first (keyed by symbol), then the exported set decides what stays and what is new.
awk -v version="$version" '
  NR == FNR { if (NF) line[$1] = $0; next }
  NF { if ($1 in line) { print line[$1]; delete line[$1] } else { print $1 " " version; added++ } }
  END {
    for (s in line) { print "removed: " s > "/dev/stderr"; removed++ }
    printf "added %d, removed %d\n", added, removed > "/dev/stderr"
  }' <(printf '%s\n' "$old") <(printf '%s\n' "$exported") | LC_ALL=C sort >"$tmp"
# Copy rather than move, so that the file keeps its usual permissions.
cat "$tmp" >"$list"
echo "wrote $list ($(wc -l <"$list") symbols, new ones since $version)"
