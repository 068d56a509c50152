"""Every file of the web console is package data (pyproject.toml), so an installed s3ish
serves the same console as a checkout; and every one has a content type console/assets.py
serves it with."""
import fnmatch
import os
import tomllib

from s3ish.console import assets

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")


def test_every_static_file_is_shipped_and_served():
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        patterns = tomllib.load(f)["tool"]["setuptools"]["package-data"]["s3ish.console"]
    files = []
    for folder, _, names in os.walk(assets.STATIC):
        files += [os.path.relpath(os.path.join(folder, n), os.path.dirname(assets.STATIC))
                  .replace(os.sep, "/") for n in names if n != "__pycache__"]
    assert "static/index.html" in files and "static/js/app.js" in files
    for rel in files:
        assert any(fnmatch.fnmatch(rel, p) and rel.count("/") == p.count("/")
                   for p in patterns), f"{rel} is not in [tool.setuptools.package-data]"
    served = assets.load()
    assert sorted(served) == sorted(r.removeprefix("static/") for r in files)
    assert served["index.html"].content_type == "text/html; charset=utf-8"
