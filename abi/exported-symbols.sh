#!/usr/bin/env bash
# Prints the dynamic symbols a shared library defines (exports), one per line, sorted, without
# their symbol versions. Used by tests/abi/check-symbols.sh and abi/update-symbols.sh.
#
# usage: abi/exported-symbols.sh LIBRARY
#
# Left out: _init and _fini (the ELF constructors every shared object has), and the absolute
# symbols a linker version script defines for its version nodes (value 0, type A, named like
# CANO_0).
set -euo pipefail

lib=${1:?usage: exported-symbols.sh LIBRARY}
[[ -f $lib ]] || { echo "exported-symbols.sh: no such file: $lib" >&2; exit 2; }

# nm prints "VALUE TYPE NAME[@[@]VERSION]"; newer binutils append the symbol version.
nm -D --defined-only "$lib" | awk '
  NF < 3 { next }
  {
    value = $1; type = $2; name = $3
    sub(/@.*/, "", name)
    if (name == "_init" || name == "_fini") next
    if (type == "A" && value ~ /^0+$/ && name ~ /^[A-Z][A-Z0-9_.]*$/) next
    print name
  }' | LC_ALL=C sort -u
