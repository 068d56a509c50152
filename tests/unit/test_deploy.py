"""deploy/: the alert rules and the Grafana dashboard query only metrics the server declares
(src/s3ish/obs/metrics.py); the systemd unit, the environment file and the container recipe
carry what docs/operations.md promises. With promtool (on PATH or $PROMTOOL) the rules are
also checked by Prometheus itself and each alert's expression is evaluated on series that
must make it fire and series that must not."""
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest
import yaml
from prometheus_client.metrics import MetricWrapperBase

from s3ish.obs import metrics

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
ALERTS = DEPLOY / "prometheus" / "alerts.yml"
DASHBOARD = DEPLOY / "grafana" / "s3ish.json"

# Series Prometheus makes itself for every target, not the server.
PROMETHEUS_SERIES = {"up"}
_NOT_NAMES = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left",
              "group_right", "offset", "bool", "inf", "nan"}
_SUFFIXES = {"counter": ("_total", "_created"), "gauge": ("",),
             "histogram": ("_bucket", "_sum", "_count", "_created"),
             "summary": ("", "_sum", "_count", "_created")}


def metric_names(expr: str) -> set[str]:
    """The series names a PromQL expression selects: identifiers left once strings, label
    matchers, ranges and grouping clauses are removed, that are neither functions nor
    keywords."""
    e = re.sub(r'"(?:\\.|[^"\\])*"', '""', expr)
    e = re.sub(r"\{[^}]*\}", " ", e)
    e = re.sub(r"\[[^\]]*\]", " ", e)
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    names = set()
    for m in re.finditer(r"(?<![\w.$])[A-Za-z_:][\w:]*", e):
        if m.group().lower() in _NOT_NAMES or e[m.end():].lstrip().startswith("("):
            continue
        names.add(m.group())
    return names


def test_metric_names_are_extracted():
    expr = ('sum by (instance) (rate(s3ish_a_total{x="y{z}"}[5m])) / ignoring(le) '
            's3ish_b offset 1h > 0.5 and on(instance) histogram_quantile(0.9, '
            'rate(s3ish_c_bucket[$__rate_interval])) or vector(0) unless up == 1e3')
    assert metric_names(expr) == {"s3ish_a_total", "s3ish_b", "s3ish_c_bucket", "up"}


def declared_series() -> set[str]:
    """Every series name the server can expose: the metrics declared in obs/metrics.py
    (with the suffixes their types add) and those of its scrape-time collectors."""
    families = [f for obj in vars(metrics).values() if isinstance(obj, MetricWrapperBase)
                for f in obj.describe()]
    families += list(metrics.BucketStatsCollector([("b", 1, 1)]).collect())
    families += list(metrics.ScrapeCollector([("/d", 2, 1)], ready=True).collect())
    return {f.name + suffix for f in families for suffix in _SUFFIXES[f.type]}


def _alert_rules() -> list[dict]:
    doc = yaml.safe_load(ALERTS.read_text())
    return [rule for group in doc["groups"] for rule in group["rules"]]


def _dashboard_exprs() -> list[str]:
    dash = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
    for var in dash["templating"]["list"]:
        query = var.get("query")
        if isinstance(query, dict):
            exprs += re.findall(r"label_values\((\w+)", query["query"])
    return exprs


@pytest.mark.parametrize("source", ["alerts", "dashboard"])
def test_every_metric_queried_is_declared(source):
    exprs = [r["expr"] for r in _alert_rules()] if source == "alerts" else _dashboard_exprs()
    declared = declared_series()
    used = set().union(*map(metric_names, exprs))
    assert len(used) > 10
    unknown = sorted(used - declared - PROMETHEUS_SERIES)
    assert not unknown, f"{source} queries metrics obs/metrics.py does not declare: {unknown}"


def test_alerts_cover_the_operators_cases():
    rules = _alert_rules()
    names = [r["alert"] for r in rules]
    assert len(names) == len(set(names))
    for rule in rules:
        assert rule["labels"]["severity"] in ("warning", "critical"), rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]
        assert rule["annotations"]["runbook"].startswith("docs/operations.md#")
    by_metric = {n: [r["alert"] for r in rules if n in metric_names(r["expr"])]
                 for n in ("s3ish_drive_ok", "s3ish_heal_queue_depth",
                           "s3ish_corrupt_shards_total", "s3ish_tier_lag_seconds",
                           "s3ish_drive_free_bytes", "s3ish_requests_total", "s3ish_ready",
                           "up")}
    assert all(by_metric.values()), by_metric
    # Every anchor a runbook link names is a heading of docs/operations.md.
    headings = {re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-")
                for h in re.findall(r"^#+ (.*)$", (ROOT / "docs" / "operations.md")
                                    .read_text(), re.M)}
    for rule in rules:
        anchor = rule["annotations"]["runbook"].split("#", 1)[1]
        assert anchor in headings, (rule["alert"], anchor)


def test_dashboard_panels():
    dash = json.loads(DASHBOARD.read_text())
    panels = dash["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    cells = set()
    for p in panels:                                # no two panels overlap on the grid
        g = p["gridPos"]
        assert g["x"] + g["w"] <= 24
        mine = {(x, y) for x in range(g["x"], g["x"] + g["w"])
                for y in range(g["y"], g["y"] + g["h"])}
        assert not cells & mine, p["title"]
        cells |= mine
    queried = set().union(*map(metric_names, _dashboard_exprs()))
    for name in ("s3ish_drive_ok", "s3ish_drive_free_bytes", "s3ish_drive_total_bytes",
                 "s3ish_heal_queue_depth", "s3ish_corrupt_shards_total",
                 "s3ish_tier_lag_seconds", "s3ish_requests_total",
                 "s3ish_request_errors_total"):
        assert name in queried, name
    for p in panels:
        for t in p.get("targets", []):
            assert 'instance=~"$instance"' in t["expr"], (p["title"], t["expr"])


def _unit(path: pathlib.Path) -> dict[str, dict[str, list[str]]]:
    """A systemd unit file: section -> key -> values (keys may repeat)."""
    sections: dict = {}
    current = None
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key, []).append(value)
    return sections


def test_systemd_unit():
    unit = _unit(DEPLOY / "s3ish.service")
    svc = unit["Service"]
    assert svc["ExecStart"][0].endswith("s3ish server --config /etc/s3ish/config.toml")
    assert svc["EnvironmentFile"] == ["/etc/s3ish/s3ish.env"]
    assert svc["User"] == ["s3ish"]
    for key, want in [("ProtectSystem", "strict"), ("NoNewPrivileges", "yes"),
                      ("PrivateTmp", "yes"), ("ProtectHome", "yes"),
                      ("Restart", "on-failure"), ("CapabilityBoundingSet", "")]:
        assert svc[key] == [want], key
    assert int(svc["LimitNOFILE"][0]) >= 65536
    assert svc["ReadWritePaths"] == ["/var/lib/s3ish"]
    assert unit["Install"]["WantedBy"] == ["multi-user.target"]
    assert "StartLimitBurst" in unit["Unit"]        # [Service] would ignore it


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="no systemd-analyze")
def test_systemd_analyze_verify(tmp_path):
    """systemd's own check, on a copy whose ExecStart names an s3ish that exists here."""
    exe = pathlib.Path(sys.executable).parent / "s3ish"
    text = (DEPLOY / "s3ish.service").read_text()
    unit = tmp_path / "s3ish.service"
    unit.write_text(text.replace("/opt/s3ish/venv/bin/s3ish",
                                 str(exe) if exe.exists() else "/bin/true"))
    r = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0 and "s3ish.service" not in r.stderr, r.stderr


def test_environment_file_names_variables_the_server_reads():
    names = [line.lstrip("#").split("=", 1)[0] for line in
             (DEPLOY / "s3ish.env").read_text().splitlines()
             if re.match(r"#?S3ISH_\w+=", line)]
    assert {"S3ISH_ROOT_USER", "S3ISH_ROOT_PASSWORD", "S3ISH_TIER_ACCESS_KEY",
            "S3ISH_TIER_SECRET_KEY", "S3ISH_KMS_MASTER_KEY"} <= set(names)
    source = "".join(p.read_text() for p in (ROOT / "src" / "s3ish").rglob("*.py"))
    for name in names:
        assert name in source or f'"{name.removeprefix("S3ISH_")}"' in source, name


def _dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of deploy/Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n", " ", (DEPLOY / "Dockerfile").read_text())
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1].strip())
            for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_dockerfile():
    steps = _dockerfile()
    froms = [a for i, a in steps if i == "FROM"]
    assert froms and all(re.match(r"python:3\.1[1-9]-slim", a) for a in froms)
    final = steps[max(n for n, (i, _) in enumerate(steps) if i == "FROM"):]
    args = {}
    for instruction, arg in final:
        args.setdefault(instruction, []).append(arg)
    assert any("pip install" in a for a in args["RUN"])
    user = args["USER"][-1].split(":")[0]
    assert user not in ("root", "0")
    assert json.loads(args["VOLUME"][0]) == ["/data"]
    assert args["EXPOSE"] == ["9000"]
    health = args["HEALTHCHECK"][0]
    assert health.startswith("--") and "CMD" in health
    assert "/_ready" in " ".join(args["ENV"])       # S3ISH_HEALTH_URL
    assert json.loads(args["ENTRYPOINT"][0]) == ["s3ish"]
    cmd = json.loads(args["CMD"][0])
    assert cmd[:3] == ["server", "--listen", "0.0.0.0:9000"] and "/data" in cmd
    # What it copies exists and is not excluded from the build context.
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    assert {".git", ".venv", "tests"} <= ignored
    for instruction, arg in steps:
        if instruction == "COPY" and "--from" not in arg:
            for src in arg.split()[:-1]:
                assert (ROOT / src).exists(), src
                assert src.split("/")[0] not in ignored, src


def test_health_check_script(tmp_path):
    """The container's health check: 0 on a ready server, 1 when /_ready says 503 or no
    server answers (a real server, started on a free port)."""
    from tests.support import ServerProcess
    script = [sys.executable, str(DEPLOY / "healthcheck.py")]
    srv = ServerProcess(str(tmp_path / "data"), str(tmp_path)).start()
    try:
        env = {**os.environ, "S3ISH_HEALTH_URL": srv.endpoint + "/_ready"}
        r = subprocess.run(script, env=env, capture_output=True, text=True, timeout=30)
        assert r.returncode == 0 and r.stdout.strip() == "ready", r.stdout
        shutil.rmtree(tmp_path / "data" / "tmp")        # the folder is no longer writable
        r = subprocess.run(script, env=env, capture_output=True, text=True, timeout=30)
        assert r.returncode == 1 and "not writable" in r.stdout, r.stdout
    finally:
        srv.stop()
    r = subprocess.run(script, env=env, capture_output=True, text=True, timeout=30)
    assert r.returncode == 1


def _promtool() -> str | None:
    return os.environ.get("PROMTOOL") or shutil.which("promtool")


# Per alert: input series (promtool's notation, one sample a minute), the time to evaluate
# at, and the labels it must fire with; then series it must stay silent for.
_FIRE = {
    "S3ishDriveOffline": ({'s3ish_drive_ok{drive="/d1"}': "1x10",
                           's3ish_drive_ok{drive="/d3"}': "1 1 0x8"}, "10m",
                          [{"drive": "/d3"}]),
    "S3ishDiskSpaceLow": ({'s3ish_drive_free_bytes{drive="/d1"}': "50x10",
                           's3ish_drive_total_bytes{drive="/d1"}': "1000x10",
                           's3ish_drive_free_bytes{drive="/d2"}': "500x10",
                           's3ish_drive_total_bytes{drive="/d2"}': "1000x10"}, "10m",
                          [{"drive": "/d1"}]),
    "S3ishCorruptShardsFound": ({"s3ish_corrupt_shards_total": "0 0 0 2 2 2"}, "5m", [{}]),
    "S3ishHealBacklog": ({"s3ish_heal_queue_depth": "5x130"}, "130m", [{}]),
    "S3ishTierLag": ({"s3ish_tier_lag_seconds": "10 3600x20"}, "20m", [{}]),
    "S3ishNotReady": ({"s3ish_ready": "1 0x10"}, "10m", [{}]),
    "S3ishDown": ({'up{job="s3ish"}': "0x10"}, "10m", [{"job": "s3ish"}]),
    "S3ishTierReadThroughFailing": ({'s3ish_tier_reads_total{outcome="ok"}': "0+5x20",
                                     's3ish_tier_reads_total{outcome="error"}': "0 0 0+1x18"},
                                    "20m", [{}]),
    "S3ishHighErrorRate": ({'s3ish_requests_total{status_class="2xx"}': "0+600x20",
                            's3ish_requests_total{status_class="5xx"}': "0+120x20"}, "20m",
                           [{}]),
}
_SILENT = {
    "S3ishDriveOffline": {'s3ish_drive_ok{drive="/d1"}': "1x10"},
    "S3ishDiskSpaceLow": {'s3ish_drive_free_bytes{drive="/d1"}': "500x10",
                          's3ish_drive_total_bytes{drive="/d1"}': "1000x10"},
    "S3ishCorruptShardsFound": {"s3ish_corrupt_shards_total": "2x10"},
    "S3ishHealBacklog": {"s3ish_heal_queue_depth": "500-4x125"},        # draining
    "S3ishTierLag": {"s3ish_tier_lag_seconds": "3x20"},
    "S3ishNotReady": {"s3ish_ready": "1x10"},
    "S3ishDown": {'up{job="s3ish"}': "1x10"},
    "S3ishTierReadThroughFailing": {'s3ish_tier_reads_total{outcome="ok"}': "0+5x20",
                                    's3ish_tier_reads_total{outcome="error"}': "1x20"},
    "S3ishHighErrorRate": {'s3ish_requests_total{status_class="2xx"}': "0+600x20",
                           's3ish_requests_total{status_class="5xx"}': "0+1x20"},
}


@pytest.mark.skipif(not _promtool(), reason="promtool not installed (PROMTOOL=path)")
def test_promtool_checks_and_fires_the_rules(tmp_path):
    promtool = _promtool()
    r = subprocess.run([promtool, "check", "rules", str(ALERTS)], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    exprs = {rule["alert"]: rule["expr"] for rule in _alert_rules()}
    tests = []
    for name, (series, at, fired) in _FIRE.items():
        # `* 0 + 1`: every firing sample is 1 and loses its name, so the expected samples
        # are the alerts' label sets (the value of an alert is not what is tested).
        expr = f"({exprs[name]}) * 0 + 1"
        for inputs, want in ((series, fired), (_SILENT[name], [])):
            tests.append({"interval": "1m",
                          "input_series": [{"series": k, "values": v}
                                           for k, v in inputs.items()],
                          "promql_expr_test": [{"expr": expr, "eval_time": at,
                                                "exp_samples": [{"labels": _labels(lab),
                                                                 "value": 1}
                                                                for lab in want]}]})
    path = tmp_path / "alerts_test.yml"
    path.write_text(yaml.safe_dump({"tests": tests}))
    r = subprocess.run([promtool, "test", "rules", str(path)], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


def _labels(labels: dict) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"
