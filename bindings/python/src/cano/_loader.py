"""Locating and loading libcano.

The lookup order follows the binding conventions (c-abi-conventions.md, section 5.5):

1. the ``CANO_LIBRARY`` environment variable: an exact path; when it is set and cannot be
   loaded, import fails rather than silently picking up another copy;
2. a copy shipped inside the package directory (``libcano.so.0``, ``libcano.so``, ...);
3. the system library by SONAME (``libcano.so.0``), then ``ctypes.util.find_library("cano")``.

Whatever is found must report ``cano_abi_major() == ABI_MAJOR``; anything else raises
``ImportError`` with a message that names the path and both numbers.

The library is opened with :class:`ctypes.CDLL`, so every call into it releases the GIL.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from pathlib import Path
from typing import List, Optional, Tuple

#: The C ABI major this binding was written for (the library's SONAME version).
ABI_MAJOR = 0

_ENV = "CANO_LIBRARY"


def _package_candidates() -> List[Path]:
    here = Path(__file__).resolve().parent
    if sys.platform == "win32":
        names = ["cano.dll", "libcano.dll"]
    elif sys.platform == "darwin":
        names = [f"libcano.{ABI_MAJOR}.dylib", "libcano.dylib"]
    else:
        names = [f"libcano.so.{ABI_MAJOR}", "libcano.so"]
    found = [here / name for name in names if (here / name).exists()]
    # A versioned copy such as libcano.so.0.1.0 also counts.
    found += sorted(p for p in here.glob(f"libcano.so.{ABI_MAJOR}.*") if p not in found)
    return found


def _system_candidates() -> List[str]:
    if sys.platform == "win32":
        names = ["cano.dll", "libcano.dll"]
    elif sys.platform == "darwin":
        names = [f"libcano.{ABI_MAJOR}.dylib"]
    else:
        names = [f"libcano.so.{ABI_MAJOR}"]
    found = ctypes.util.find_library("cano")
    if found and found not in names:
        names.append(found)
    return names


def _open(path: str) -> ctypes.CDLL:
    if sys.platform == "win32" and os.path.isabs(path):  # pragma: no cover - not tested here
        os.add_dll_directory(os.path.dirname(path))
    return ctypes.CDLL(path)


def _check_abi(lib: ctypes.CDLL, where: str) -> None:
    try:
        abi_major = lib.cano_abi_major
    except AttributeError:
        raise ImportError(f"cano: {where} does not export cano_abi_major; is it libcano?") from None
    abi_major.restype = ctypes.c_int
    abi_major.argtypes = []
    found = abi_major()
    if found != ABI_MAJOR:
        raise ImportError(
            f"cano: {where} has C ABI major {found}, but this binding needs ABI major "
            f"{ABI_MAJOR}; install a matching libcano or point {_ENV} at one"
        )


def load() -> Tuple[ctypes.CDLL, str]:
    """Finds and opens libcano; returns the library and the path or name it was loaded from.

    Raises ImportError when no library can be loaded or its ABI major is not ``ABI_MAJOR``.
    Called once, at import; thread rules do not apply.
    """
    explicit = os.environ.get(_ENV)
    if explicit:
        try:
            lib = _open(explicit)
        except OSError as exc:
            raise ImportError(f"cano: cannot load {_ENV}={explicit!r}: {exc}") from exc
        _check_abi(lib, explicit)
        return lib, explicit

    errors: List[str] = []
    candidates: List[str] = [str(p) for p in _package_candidates()] + _system_candidates()
    for candidate in candidates:
        try:
            lib = _open(candidate)
        except OSError as exc:
            errors.append(f"{candidate}: {exc}")
            continue
        _check_abi(lib, candidate)
        return lib, candidate
    tried = "; ".join(errors) if errors else "no candidates"
    raise ImportError(
        "cano: libcano was not found. Set CANO_LIBRARY to the path of libcano.so, copy the "
        f"library into the cano package directory, or install it system-wide (tried: {tried})"
    )


_lib: Optional[ctypes.CDLL] = None
_path: Optional[str] = None


def library() -> ctypes.CDLL:
    """The loaded library (loaded on first use)."""
    global _lib, _path
    if _lib is None:
        _lib, _path = load()
    return _lib


def library_path() -> str:
    """The path (or SONAME) the library was loaded from."""
    library()
    assert _path is not None
    return _path
