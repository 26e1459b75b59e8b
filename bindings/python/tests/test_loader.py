"""Finding the library: CANO_LIBRARY, a copy in the package, the ABI major check."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import PYTHON, SRC, subprocess_env

import cano


def run_python(code: str, env: dict, cwd: Path = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, "-c", code], env=env, cwd=cwd, capture_output=True, text=True, timeout=60
    )


def test_cano_library_is_used() -> None:
    result = run_python("import cano; print(cano.library_path())", subprocess_env())
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == cano.library_path()


def test_a_bad_cano_library_path_fails_import_clearly() -> None:
    env = subprocess_env()
    env["CANO_LIBRARY"] = "/nonexistent/libcano.so"
    result = run_python("import cano", env)
    assert result.returncode != 0
    assert "ImportError" in result.stderr
    assert "cannot load CANO_LIBRARY='/nonexistent/libcano.so'" in result.stderr


def test_a_copy_inside_the_package_is_found(tmp_path: Path) -> None:
    package = tmp_path / "cano"
    shutil.copytree(SRC / "cano", package)
    shutil.copy(os.path.realpath(cano.library_path()), package / "libcano.so.0")
    env = subprocess_env()
    del env["CANO_LIBRARY"]
    env["PYTHONPATH"] = str(tmp_path)
    result = run_python("import cano; print(cano.library_path())", env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(package / "libcano.so.0")


FAKE = "int cano_abi_major(void) { return 7; }\n"


def test_an_abi_mismatch_fails_import(tmp_path: Path) -> None:
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("needs a C compiler to build a fake library")
    (tmp_path / "fake.c").write_text(FAKE)
    library = tmp_path / "libcano.so"
    subprocess.run(
        [compiler, "-shared", "-fPIC", str(tmp_path / "fake.c"), "-o", str(library)], check=True
    )
    env = subprocess_env()
    env["CANO_LIBRARY"] = str(library)
    result = run_python("import cano", env)
    assert result.returncode != 0
    assert "has C ABI major 7, but this binding needs ABI major 0" in result.stderr


def test_a_library_without_cano_symbols_fails_import() -> None:
    libc = "libc.so.6"
    env = subprocess_env()
    env["CANO_LIBRARY"] = libc
    result = run_python("import cano", env)
    assert result.returncode != 0
    assert "does not export cano_abi_major" in result.stderr


def test_the_system_library_is_found_by_soname(tmp_path: Path) -> None:
    directory = Path(os.path.realpath(cano.library_path())).parent
    if not (directory / "libcano.so.0").exists():
        pytest.skip("the library was not loaded from a directory holding libcano.so.0")
    env = subprocess_env()
    del env["CANO_LIBRARY"]
    env["LD_LIBRARY_PATH"] = str(directory)
    result = run_python("import cano; print(cano.library_path())", env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "libcano.so.0"
