"""The example and the benchmark script still run (the benchmark with a tiny workload)."""

from __future__ import annotations

import json
import subprocess

from conftest import PYTHON, ROOT, subprocess_env


def test_the_quickstart_example() -> None:
    result = subprocess.run(
        [PYTHON, str(ROOT / "examples" / "python" / "quickstart.py")],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "trail: Fetch -> Process -> Done",
        "sum: 6",
        "quickstart: ok",
    ]


def test_the_transition_benchmark_prints_json() -> None:
    script = ROOT / "bindings" / "python" / "bench" / "transition_bench.py"
    result = subprocess.run(
        [PYTHON, str(script), "--states", "20", "--runs", "2"],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [r["mode"] for r in report["results"]] == ["inline", "worker"]
    for entry in report["results"]:
        assert entry["transitions_per_run"] == 19
        assert entry["ns_per_transition_median"] > 0
