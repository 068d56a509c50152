"""A client command whose reader goes away (`s3ish admin drives | grep -q ...`) ends
quietly with the shell's SIGPIPE status, not a BrokenPipeError traceback."""
import subprocess
import sys

CODE = """
import s3ish.cli as cli
def chatty(args):
    for _ in range(100000):
        print("drive line " * 10)
    return 0
cli.run_admin = chatty
cli.main(["admin", "drives"])
"""


def test_a_closed_pipe_ends_the_command_quietly():
    proc = subprocess.Popen([sys.executable, "-c", CODE], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout.read(64)
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 141
    assert b"Traceback" not in err and b"BrokenPipe" not in err
