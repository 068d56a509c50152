"""The command line module imports nothing that loads prometheus_client: `s3ish server` sets
the multiprocess metrics folder first, and a client imported before that would serve the
metrics of one worker only (commands such as `restore` import their machinery when run)."""
import subprocess
import sys


def test_importing_the_cli_leaves_prometheus_unloaded():
    r = subprocess.run([sys.executable, "-c", "import sys, s3ish.cli; "
                        "print('prometheus_client' in sys.modules)"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.strip() == "False", r.stderr
