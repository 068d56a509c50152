"""The README's "curl quick start" (the seed design's curl examples), run line by line as
written with the real curl binary against a server started with --allow-header-auth. The
lines are read from the README between its curl-examples markers, so the two cannot drift."""
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import ROOT_PASSWORD, ROOT_USER, ServerProcess

README = Path(__file__).resolve().parents[2] / "README.md"
MARK = "@@ line "


def readme_examples() -> list[str]:
    text = README.read_text()
    block = re.search(r"<!-- curl-examples:begin.*?-->\s*```sh\n(.*?)```\s*"
                      r"<!-- curl-examples:end -->", text, re.S)
    assert block, "README.md lost its curl-examples markers"
    return [line for line in block.group(1).splitlines() if line.strip()]


@pytest.mark.skipif(shutil.which("curl") is None, reason="the curl binary is not installed")
def test_readme_curl_examples_run_verbatim(tmp_path):
    lines = readme_examples()
    assert sum(line.startswith("curl ") for line in lines) >= 8
    srv = ServerProcess(":memory:", str(tmp_path),
                        extra_args=["--allow-header-auth"]).start()
    try:
        # One shell runs every line in order (variables carry over); between two lines it
        # prints a marker, so each line's output can be checked on its own.
        script = "set -e\n" + "".join(f"echo '{MARK}{i}'\n{line}\n"
                                      for i, line in enumerate(lines))
        work = tmp_path / "work"
        work.mkdir()
        r = subprocess.run(["bash", "-c", script], cwd=work, capture_output=True, text=True,
                           timeout=60, env={"PATH": "/usr/bin:/bin", "S3": srv.endpoint,
                                            "AK": ROOT_USER, "SK": ROOT_PASSWORD})
        assert r.returncode == 0, f"{r.stdout}\n{r.stderr}"
        assert r.stderr == ""
        out = dict(zip(lines, re.split(rf"{MARK}\d+\n", r.stdout)[1:]))
        print("\n".join(f"$ {line}\n{out[line]}" for line in lines))   # the run, for the record
        assert len(out) == len(lines)
        content = (work / "hello.txt").read_text()

        def output(fragment: str) -> str:
            return next(out[line] for line in lines if fragment in line)
        assert output('curl -fsS "$S3/photos/hello.txt"') == content
        assert "<Key>hello.txt</Key>" in output("list-type=2")
        assert "<CopyObjectResult" in output("-X PATCH")
        assert output('curl -fsS "$S3/photos/copy.txt"') == content
        # The last lines removed everything they made.
        assert [b["Name"] for b in srv.client().list_buckets()["Buckets"]] == []
        assert f"{ROOT_USER} CopyObject PATCH /photos/copy.txt 200" in srv.read_log()
    finally:
        srv.stop()
