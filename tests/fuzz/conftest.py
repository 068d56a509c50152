"""Per-target fuzzing totals at the end of the run (examples run, failures, time, seed)."""
from tests.fuzz import harness


def pytest_terminal_summary(terminalreporter):
    if not harness.STATS:
        return
    tr = terminalreporter
    profile = f"long, {harness.SECONDS:g} s per target" if harness.LONG else \
        f"short, {harness.EXAMPLES} examples per target"
    tr.write_sep("=", f"fuzz targets ({profile})")
    tr.write_line(f"{'target':<34} {'examples':>9} {'failures':>8} {'seconds':>8}  seed")
    for s in harness.STATS:
        tr.write_line(f"{s.target:<34} {s.examples:>9} {s.failures:>8} {s.seconds:>8.1f}  "
                      f"{s.seed}")
    tr.write_line(f"{'TOTAL (' + str(len(harness.STATS)) + ' targets)':<34} "
                  f"{sum(s.examples for s in harness.STATS):>9} "
                  f"{sum(s.failures for s in harness.STATS):>8} "
                  f"{sum(s.seconds for s in harness.STATS):>8.1f}")
