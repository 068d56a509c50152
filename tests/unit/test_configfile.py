"""`s3ish server --config FILE`: every server flag is a key; command line > S3ISH_<KEY>
environment variable > file > default; the seed design's keys; errors name the key."""
import os
import re
from pathlib import Path

import pytest

from s3ish import cli, configfile
from s3ish.configfile import ConfigError

EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "config.toml"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for name in list(os.environ):
        if name.startswith("S3ISH_") and name not in ("S3ISH_ROOT_USER", "S3ISH_ROOT_PASSWORD"):
            monkeypatch.delenv(name)


def _options():
    return cli._server_options(cli._subparser(cli.parser(), "server"))


def _args(tmp_path, text: str | None, *flags: str):
    """The server's parsed flags for `s3ish server [--config FILE] FLAGS`."""
    argv = ["server", *flags]
    if text is not None:
        path = tmp_path / "config.toml"
        path.write_text(text)
        argv += ["--config", str(path)]
    p = cli.parser()
    return cli._with_settings(p, argv, cli._parse(p, argv))


def _error(tmp_path, text: str, *flags: str) -> str:
    with pytest.raises(SystemExit) as e:
        _args(tmp_path, text, *flags)
    return str(e.value.code)


def test_precedence_flag_over_environment_over_file_over_default(tmp_path, monkeypatch):
    assert _args(tmp_path, None).workers == 1
    assert _args(tmp_path, "workers = 3\n").workers == 3
    monkeypatch.setenv("S3ISH_WORKERS", "5")
    assert _args(tmp_path, "workers = 3\n").workers == 5
    assert _args(tmp_path, "workers = 3\n", "--workers", "7").workers == 7
    # A flag given with its default value still wins over the file and the environment.
    monkeypatch.setenv("S3ISH_REGION", "eu-west-1")
    assert _args(tmp_path, "region = 'ap-south-1'\n").region == "eu-west-1"
    assert _args(tmp_path, "", "--region", "us-east-1").region == "us-east-1"


def test_lists_are_arrays_and_a_flag_replaces_them(tmp_path, monkeypatch):
    text = 'data = ["/srv/d1", "/srv/d2"]\ndomain = ["s3.example.com"]\n'
    args = _args(tmp_path, text)
    assert (args.data, args.domain) == (["/srv/d1", "/srv/d2"], ["s3.example.com"])
    args = _args(tmp_path, text, "--data", "/x", "--domain", "y.test")
    assert (args.data, args.domain) == (["/x"], ["y.test"])      # replaced, not appended
    assert _args(tmp_path, 'data = "/one"\n').data == ["/one"]
    monkeypatch.setenv("S3ISH_DOMAIN", "a.test, b.test")
    assert _args(tmp_path, text).domain == ["a.test", "b.test"]


def test_switches_durations_choices_and_listen(tmp_path, monkeypatch):
    args = _args(tmp_path, 'no_fsync = true\nmultipart_expiry = "1d"\norphan_grace = 60\n'
                 'compression = true\nacl_mode = "record"\nlisten = "0.0.0.0:9100"\n'
                 'scrub_rate = 5\ntier_rate = 1.5\n')
    assert args.no_fsync is True and args.multipart_expiry == 86400.0
    assert args.orphan_grace == 60.0 and args.compression == "on"
    assert args.acl_mode == "record" and args.listen == ("0.0.0.0", 9100)
    assert args.scrub_rate == 5.0 and args.tier_rate == 1.5
    monkeypatch.setenv("S3ISH_NO_FSYNC", "false")
    monkeypatch.setenv("S3ISH_ALLOW_HEADER_AUTH", "yes")
    args = _args(tmp_path, "no_fsync = true\n")
    assert args.no_fsync is False and args.allow_header_auth is True


def test_every_flag_is_a_key_documented_in_the_example():
    text = EXAMPLE.read_text()
    documented = set(re.findall(r"^#?\s*([a-z_0-9]+) =", text, re.M))
    missing = set(_options()) - documented
    assert not missing, f"deploy/config.toml lacks {sorted(missing)}"
    assert set(configfile.DESIGN_OPTIONS) <= documented


def test_the_example_loads(tmp_path):
    args = _args(tmp_path, EXAMPLE.read_text())
    assert args.listen == ("127.0.0.1", 9000) and args.data == ["/var/lib/s3ish/data"]
    assert args.workers == 2 and args.log_format == "json"
    # Its commented defaults, uncommented, are the defaults.
    defaults = "\n".join(re.sub(r"^# ", "", line) for line in EXAMPLE.read_text().splitlines()
                         if re.match(r"^# (?!listen_addr|storage_|enable_|erasure_|parity|"
                                     r"tier_endpoint|tier_bucket|tls_)[a-z_]+ =", line))
    plain = _args(tmp_path, None)
    loaded = _args(tmp_path, defaults)
    for key in ("scrub_rate", "multipart_expiry", "idle_timeout", "body_timeout", "region",
                "default_ownership", "tier_checkpoint_interval", "follow_interval"):
        assert getattr(loaded, key) == getattr(plain, key), key


def test_unknown_key_is_an_error_naming_it(tmp_path, monkeypatch):
    line = _error(tmp_path, "workers = 2\nlisten_port = 9000\n")
    assert "unknown key 'listen_port'" in line and "config.toml" in line
    assert "unknown key 'config'" in _error(tmp_path, 'config = "other.toml"\n')
    # A table is not a key either (no sections).
    assert "unknown key 'server'" in _error(tmp_path, "[server]\nworkers = 2\n")
    # Other S3ISH_ variables are not settings: they are not refused.
    monkeypatch.setenv("S3ISH_SOMETHING_ELSE", "1")
    assert _args(tmp_path, "workers = 2\n").workers == 2


@pytest.mark.parametrize("text, key, expected", [
    ('workers = "four"\n', "workers", "expected an integer, got a string"),
    ("workers = 2.5\n", "workers", "expected an integer, got a number"),
    ('no_fsync = "yes"\n', "no_fsync", "expected true or false, got a string"),
    ("region = 5\n", "region", "expected a string, got an integer"),
    ('tier_rate = "fast"\n', "tier_rate", "expected a number, got a string"),
    ('multipart_expiry = "soon"\n', "multipart_expiry", "'soon' is not"),
    ('listen = "nowhere"\n', "listen", "'nowhere' is not"),
    ('acl_mode = "maybe"\n', "acl_mode", "one of enforce, record, ignore"),
    ("data = [1, 2]\n", "data", "expected a string, got an integer"),
    ("domain = {a = 1}\n", "domain", "expected a string or an array of strings, got a table"),
    ("enable_erasure_coding = 1\n", "enable_erasure_coding", "expected true or false"),
    ('storage_backend = "tape"\n', "storage_backend", "one of memory, file"),
])
def test_type_errors_name_the_key(tmp_path, text, key, expected):
    line = _error(tmp_path, text)
    assert f": {key}: " in line and expected in line, line


def test_environment_type_errors_name_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("S3ISH_WORKERS", "many")
    line = _error(tmp_path, "workers = 2\n")
    assert "environment S3ISH_WORKERS" in line and "'many' is not an integer" in line


def test_bad_toml_and_missing_file(tmp_path):
    assert "not valid TOML" in _error(tmp_path, "workers = = 2\n")
    with pytest.raises(SystemExit) as e:
        _args(tmp_path, None, "--config", str(tmp_path / "absent.toml"))
    assert "cannot read the config file" in str(e.value.code)


def test_design_keys(tmp_path):
    args = _args(tmp_path, 'listen_addr = "0.0.0.0:8333"\nstorage_backend = "memory"\n'
                 'auth_file = "/etc/users.txt"\n')
    assert args.listen == ("0.0.0.0", 8333) and args.data == [":memory:"]
    assert args.auth_file == "/etc/users.txt"
    args = _args(tmp_path, f'storage_root = "{tmp_path}/data"\n')
    assert args.data == [f"{tmp_path}/data"] and not args.create_drives
    args = _args(tmp_path, f'storage_backend = "file"\nstorage_root = "{tmp_path}"\n'
                 "enable_erasure_coding = true\nerasure_data_blocks = 4\n"
                 "erasure_parity_blocks = 2\n")
    assert args.data == [f"{tmp_path}/d{i}" for i in range(1, 7)]
    assert args.parity == 2 and args.create_drives is True
    # The command line still wins over what the design keys became.
    assert _args(tmp_path, 'listen_addr = "0.0.0.0:8333"\n',
                 "--listen", "127.0.0.1:1").listen == ("127.0.0.1", 1)


@pytest.mark.parametrize("text, expected", [
    ('storage_backend = "file"\n', "needs storage_root"),
    ('storage_backend = "memory"\nstorage_root = "/x"\n', "storage_root: has no meaning"),
    ('storage_root = "/x"\nenable_erasure_coding = true\nerasure_data_blocks = 2\n',
     "needs erasure_parity_blocks"),
    ('storage_root = "/x"\nerasure_data_blocks = 2\n', "needs enable_erasure_coding"),
    ('storage_root = "/x"\ndata = ["/y"]\n', "give one of storage_root or data"),
    ('listen_addr = "a:1"\nlisten = "b:2"\n', "give one of listen_addr or listen"),
    ('storage_root = "/x"\nenable_erasure_coding = true\nerasure_data_blocks = 0\n'
     "erasure_parity_blocks = 1\n", "erasure_data_blocks: must be at least 1"),
])
def test_design_key_conflicts(tmp_path, text, expected):
    assert expected in _error(tmp_path, text)


def test_loader_without_the_cli():
    """configfile.settings alone: the environment wins key by key over the file."""
    options = {"workers": configfile.Option("workers", convert=int),
               "data": configfile.Option("data", "list")}
    got = configfile.settings(options, {"workers": 2, "data": ["/a"]}, {"workers": "9"})
    assert got == {"workers": 9, "data": ["/a"]}
    with pytest.raises(ConfigError, match="environment S3ISH_NOPE"):
        configfile.settings(options, {}, {"nope": "1"})
    assert configfile.read_env(options, {"S3ISH_WORKERS": "3", "S3ISH_CONFIG": "{}",
                                         "S3ISH_STORAGE_ROOT": "/r"}) == {
        "workers": "3", "storage_root": "/r"}
