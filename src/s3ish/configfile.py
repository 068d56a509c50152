"""Server settings from a TOML file (`s3ish server --config FILE`) and `S3ISH_*` environment
variables.

Each key is a server flag's name with underscores (`tier_endpoint` for --tier-endpoint; the
caller, cli.py, describes its flags as Options, so every flag is a key with no second list to
keep). The environment variable of a key is S3ISH_<KEY UPPERCASE>; it overrides the file, and
command-line flags override both (cli.py). The s3ish seed design's keys are accepted as
written and translated into flags (`listen_addr`, `storage_backend`, `storage_root`,
`enable_erasure_coding`, `erasure_data_blocks`, `erasure_parity_blocks`; `auth_file` is a flag
too). An unknown key or a value of the wrong type is a ConfigError naming the key and where
it came from. This module imports nothing of the server.
"""
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass

ENV_PREFIX = "S3ISH_"
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


class ConfigError(ValueError):
    """A setting that cannot be used; the message names the key and its source."""


@dataclass(frozen=True)
class Option:
    """One key: `kind` is "bool" (a switch), "list" (a repeatable flag) or "value";
    `convert` turns a string into the value, as the flag's own parser does."""
    key: str
    kind: str = "value"
    convert: Callable[[str], object] = str
    choices: tuple = ()


# The seed design's keys: converted as these, then translated by _translate.
DESIGN_OPTIONS = {o.key: o for o in (
    Option("listen_addr"),
    Option("storage_backend", choices=("memory", "file")),
    Option("storage_root"),
    Option("enable_erasure_coding", "bool"),
    Option("erasure_data_blocks", convert=int),
    Option("erasure_parity_blocks", convert=int),
)}
_STORAGE_KEYS = ("storage_backend", "storage_root", "enable_erasure_coding",
                 "erasure_data_blocks", "erasure_parity_blocks")


def read_file(path: str) -> dict:
    """The TOML file's table; ConfigError for a file that cannot be read or parsed."""
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except OSError as e:
        raise ConfigError(f"cannot read the config file {path}: {e.strerror or e}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"config file {path} is not valid TOML: {e}") from None


def read_env(options: Mapping[str, Option], environ: Mapping[str, str] = os.environ) -> dict:
    """S3ISH_<KEY> of every key (flags and design keys) that is set, as strings."""
    keys = [*options, *DESIGN_OPTIONS]
    return {k: environ[ENV_PREFIX + k.upper()] for k in keys if ENV_PREFIX + k.upper() in
            environ}


def settings(options: Mapping[str, Option], file_values: Mapping, env_values: Mapping,
             file_name: str = "config file") -> dict:
    """Flag values (by key) from the file's table and the environment's strings, the
    environment winning key by key; the design's keys translated into flags."""
    sources = {k: f"{file_name}: {k}" for k in file_values}
    sources.update({k: f"environment {ENV_PREFIX}{k.upper()}" for k in env_values})
    raw = {**file_values, **env_values}
    out = {}
    for key, value in raw.items():
        option = options.get(key) or DESIGN_OPTIONS.get(key)
        if option is None:
            raise ConfigError(f"{sources[key]}: unknown key {key!r} (keys are the server's "
                              "flags with underscores, e.g. tier_endpoint; see "
                              "deploy/config.toml)")
        out[key] = _convert(option, value, key in env_values, sources[key])
    return _translate(out, options, sources)


def _convert(option: Option, value, from_env: bool, where: str):
    if option.kind == "bool":
        return _bool(value, from_env, where)
    if option.kind == "list":
        if from_env:
            items = [v.strip() for v in value.split(",") if v.strip()]
        elif isinstance(value, str):
            items = [value]
        elif isinstance(value, list):
            items = value
        else:
            raise ConfigError(f"{where}: expected a string or an array of strings, got "
                              f"{_toml_type(value)}")
        return [_scalar(option, v, from_env, where) for v in items]
    return _scalar(option, value, from_env, where)


def _bool(value, from_env: bool, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if from_env and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    got = repr(value) if from_env else _toml_type(value)
    raise ConfigError(f"{where}: expected true or false, got {got}")


def _scalar(option: Option, value, from_env: bool, where: str):
    """A TOML value must have the flag's type: a string for a text flag, an integer for an
    integer flag, any number for a number or duration flag (strings such as "7d" too)."""
    if option.choices and isinstance(value, bool) and set(option.choices) == {"on", "off"}:
        value = "on" if value else "off"      # `compression = true` reads naturally
    if not from_env:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ConfigError(f"{where}: expected {_expected(option)}, got "
                              f"{_toml_type(value)}")
        if option.convert is str and not isinstance(value, str) or \
                option.convert is int and not isinstance(value, int) or \
                option.convert is float and isinstance(value, str):
            raise ConfigError(f"{where}: expected {_expected(option)}, got "
                              f"{_toml_type(value)}")
    try:
        # The flags' own converters raise what argparse expects (ArgumentTypeError, which is
        # no ValueError) besides ValueError: any failure is a bad value of this key.
        converted = option.convert(str(value))
    except Exception as e:  # noqa: BLE001
        raise ConfigError(f"{where}: {value!r} is not {_expected(option)}"
                          + (f" ({e})" if str(e) else "")) from None
    if option.choices and converted not in option.choices:
        raise ConfigError(f"{where}: {value!r} is not one of {', '.join(option.choices)}")
    return converted


def _expected(option: Option) -> str:
    if option.choices:
        return "one of " + ", ".join(map(str, option.choices))
    return {str: "a string", int: "an integer", float: "a number"}.get(
        option.convert, f"a valid {option.key}")


def _toml_type(value) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
            list: "an array", dict: "a table"}.get(type(value), type(value).__name__)


def _translate(values: dict, options: Mapping[str, Option], sources: dict) -> dict:
    """The design's keys -> flags: listen_addr -> listen; storage_* and erasure_* -> data
    (":memory:", the root folder, or root/d1..d(k+m) as new drives) and parity."""
    out = {k: v for k, v in values.items() if k not in DESIGN_OPTIONS}
    if "listen_addr" in values:
        _exclusive(values, sources, "listen_addr", "listen")
        out["listen"] = _convert(options["listen"], values["listen_addr"], True,
                                 sources["listen_addr"])
    given = [k for k in _STORAGE_KEYS if k in values]
    if given:
        for key in given:
            _exclusive(values, sources, key, "data")
        out.update(_storage(values, sources, out))
    return out


def _exclusive(values: dict, sources: dict, design_key: str, flag_key: str) -> None:
    if flag_key in values:
        raise ConfigError(f"{sources[design_key]} and {sources[flag_key]} both set where the "
                          f"data goes: give one of {design_key} or {flag_key}")


def _storage(values: dict, sources: dict, out: dict) -> dict:
    backend = values.get("storage_backend", "file")
    erasure = values.get("enable_erasure_coding", False)
    for key in ("erasure_data_blocks", "erasure_parity_blocks"):
        if key in values and not erasure:
            raise ConfigError(f"{sources[key]}: needs enable_erasure_coding = true")
    if backend == "memory":
        for key in ("storage_root", "enable_erasure_coding"):
            if values.get(key):
                raise ConfigError(f"{sources[key]}: has no meaning with storage_backend = "
                                  "\"memory\" (nothing is kept on disk)")
        return {"data": [":memory:"]}
    root = values.get("storage_root")
    if not root:
        raise ConfigError("storage_backend = \"file\" needs storage_root, the data folder")
    if not erasure:
        return {"data": [root]}
    k, m = _blocks(values, sources)
    if "parity" in out:
        raise ConfigError(f"{sources['parity']} and {sources['erasure_parity_blocks']} both "
                          "set the parity: give one")
    drives = [os.path.join(root, f"d{i}") for i in range(1, k + m + 1)]
    # A set described by its root is made on first start, as --create-drives does.
    return {"data": drives, "parity": m, "create_drives": out.get("create_drives", True)}


def _blocks(values: dict, sources: dict) -> tuple[int, int]:
    for key in ("erasure_data_blocks", "erasure_parity_blocks"):
        if key not in values:
            raise ConfigError(f"enable_erasure_coding = true needs {key}")
    k, m = values["erasure_data_blocks"], values["erasure_parity_blocks"]
    if k < 1:
        raise ConfigError(f"{sources['erasure_data_blocks']}: must be at least 1")
    if m < 0:
        raise ConfigError(f"{sources['erasure_parity_blocks']}: cannot be negative")
    return k, m
