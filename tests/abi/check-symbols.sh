#!/usr/bin/env bash
# The exported-symbol check (CTest label "abi"): libcano.so must export cano_* and nothing else,
# and exactly the symbols listed in abi/symbols.txt. When the C API grows on purpose, run
# abi/update-symbols.sh and commit the new abi/symbols.txt with the change.
#
# usage: tests/abi/check-symbols.sh LIBRARY SYMBOLS_TXT
set -euo pipefail

lib=${1:?usage: check-symbols.sh LIBRARY SYMBOLS_TXT}
list=${2:?usage: check-symbols.sh LIBRARY SYMBOLS_TXT}
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
status=0

exported="$("$root/abi/exported-symbols.sh" "$lib")"
echo "$(wc -l <<<"$exported") symbols exported by $lib"

# 1. Only the C ABI leaves the library.
foreign="$(grep -v '^cano_' <<<"$exported" || true)"
if [[ -n $foreign ]]; then
  echo "FAIL: symbols that are not cano_* are exported (check CANO_API, the visibility" \
    "preset and src/libcano.map):"
  sed 's/^/  /' <<<"$foreign"
  status=1
fi

# 2. abi/symbols.txt is well formed: "symbol since-version [notes]", sorted, one line a symbol.
[[ -f $list ]] || { echo "FAIL: $list does not exist (run abi/update-symbols.sh)"; exit 1; }
bad="$(grep -nvE '^cano_[A-Za-z0-9_]+ [0-9]+\.[0-9]+\.[0-9]+( .*)?$' "$list" || true)"
if [[ -n $bad ]]; then
  echo "FAIL: malformed lines in $list (expected 'symbol 0.1.0'):"
  sed 's/^/  /' <<<"$bad"
  status=1
fi
listed="$(awk '{print $1}' "$list")"
if [[ $listed != "$(LC_ALL=C sort -u <<<"$listed")" ]]; then
  echo "FAIL: $list is not sorted (LC_ALL=C) or has duplicates"
  status=1
fi

# 3. The exported set equals the recorded one.
added="$(LC_ALL=C comm -23 <(echo "$exported") <(LC_ALL=C sort -u <<<"$listed") | grep . || true)"
removed="$(LC_ALL=C comm -13 <(echo "$exported") <(LC_ALL=C sort -u <<<"$listed") | grep . || true)"
if [[ -n $added ]]; then
  echo "FAIL: exported but not in $list (if intended, run abi/update-symbols.sh):"
  sed 's/^/  + /' <<<"$added"
  status=1
fi
if [[ -n $removed ]]; then
  echo "FAIL: in $list but no longer exported; removing a released symbol breaks the ABI:"
  sed 's/^/  - /' <<<"$removed"
  status=1
fi

if ((status == 0)); then
  echo "OK: the exported symbols match $list"
fi
exit $status
