"""The Makefile's install steps, run against a fake Python whose venv only records what pip and
the tools are asked: `make run` installs the server alone, `make test` adds the test extras,
and the stamps redo what pyproject.toml changes invalidate."""
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

FAKE_PYTHON = """#!/bin/sh
# `fakepy -m venv DIR`: a venv whose commands append what they are asked to ./log
echo "venv" >> log
mkdir -p "$3/bin"
for tool in pip python s3ish lint-imports; do
  printf '#!/bin/sh\\necho "%s $*" >> log\\n' "$tool" > "$3/bin/$tool"
done
chmod +x "$3/bin/"*
"""


@pytest.fixture
def project(tmp_path):
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    (tmp_path / "pyproject.toml").write_text("[project]\n")
    fake = tmp_path / "fakepy"
    fake.write_text(FAKE_PYTHON)
    fake.chmod(0o755)
    return tmp_path


def _make(project, target) -> list[str]:
    log = project / "log"
    log.write_text("")
    subprocess.run(["make", "-s", f"PYTHON={project / 'fakepy'}", target], cwd=project,
                   check=True, capture_output=True, timeout=60)
    return log.read_text().splitlines()


def _installs(lines) -> list[str]:
    return [line for line in lines if line.startswith("pip install")]


def test_run_installs_only_the_server(project):
    lines = _make(project, "run")
    assert lines[0] == "venv"
    assert _installs(lines) == ["pip install -q -U pip", "pip install -q -e ."]
    assert lines[-1].startswith("s3ish server")
    assert _installs(_make(project, "run")) == []          # nothing to redo


def test_run_then_test_adds_the_test_extras(project):
    _make(project, "run")
    lines = _make(project, "test")
    assert "venv" not in lines
    assert _installs(lines) == ["pip install -q -e .[test]"]
    assert lines[-1].startswith("python -m pytest")
    assert _installs(_make(project, "test")) == []
    assert _installs(_make(project, "run")) == []


def test_fresh_clone_test_and_pyproject_changes(project):
    lines = _make(project, "test")
    assert lines[0] == "venv"
    assert _installs(lines) == ["pip install -q -U pip", "pip install -q -e .",
                                "pip install -q -e .[test]"]
    now = time.time()       # pyproject.toml edited after the stamps were made
    for stamp in (project / ".venv").glob(".installed*"):
        os.utime(stamp, (now - 60, now - 60))
    os.utime(project / "pyproject.toml", (now - 30, now - 30))
    assert _installs(_make(project, "run")) == ["pip install -q -U pip", "pip install -q -e ."]
    assert _installs(_make(project, "test")) == ["pip install -q -e .[test]"]
