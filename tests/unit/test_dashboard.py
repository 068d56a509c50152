"""The Grafana dashboard in deploy/ only queries metrics the server declares."""
import json
import pathlib
import re


def test_grafana_dashboard_uses_declared_metrics():
    """Every metric the dashboard queries is one the server declares."""
    root = pathlib.Path(__file__).resolve().parents[2]
    dash = json.loads((root / "deploy" / "grafana-dashboard.json").read_text())
    declared = (root / "src" / "s3ish" / "obs" / "metrics.py").read_text()
    used = {m for p in dash["panels"] for t in p["targets"]
            for m in re.findall(r"s3ish_[a-z_]+", t["expr"])}
    assert used
    for name in used:
        base = re.sub(r"_(bucket|count|sum)$", "", name)
        assert f'"{base}"' in declared or f'"{name}"' in declared, name
