"""Shared fixtures: one real server per test session (plus fresh ones where a test needs it)."""
import pytest

from tests.support import VHOST_DOMAIN, ServerProcess, unique_bucket


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("server")
    srv = ServerProcess(str(tmp / "data"), str(tmp), workers=2,
                        extra_args=["--domain", VHOST_DOMAIN]).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def s3(server):
    return server.client()


@pytest.fixture
def bucket(s3):
    name = unique_bucket()
    s3.create_bucket(Bucket=name)
    yield name
    empty_bucket(s3, name)
    s3.delete_bucket(Bucket=name)


def empty_bucket(s3, name):
    """Remove every version and delete marker (a versioned bucket is empty only then)."""
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=name):
        keys = [{"Key": o["Key"], "VersionId": o["VersionId"]}
                for o in page.get("Versions", []) + page.get("DeleteMarkers", [])]
        if keys:
            s3.delete_objects(Bucket=name, Delete={"Objects": keys, "Quiet": True},
                              BypassGovernanceRetention=True)
