"""One real server with --protocol both (2 workers sharing the gRPC port with SO_REUSEPORT,
so the replay guard's shared claims are exercised too; the seed's header auth allowed) for the
gRPC tests."""
import re

import pytest

from s3ish.grpc.client import Client
from tests.support import ROOT_PASSWORD, ROOT_USER, ServerProcess, unique_bucket


@pytest.fixture(scope="session")
def grpc_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("grpc")
    srv = ServerProcess(str(tmp / "data"), str(tmp), workers=2,
                        extra_args=["--protocol", "both", "--grpc-listen", "127.0.0.1:0",
                                    "--no-fsync", "--allow-header-auth"]).start()
    srv.grpc_target = "127.0.0.1:" + re.search(r"grpc://127\.0\.0\.1:(\d+)",
                                               srv.banner).group(1)
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def client(grpc_server):
    c = Client(grpc_server.grpc_target, ROOT_USER, ROOT_PASSWORD)
    yield c
    c.close()


@pytest.fixture
def gbucket(client):
    name = unique_bucket("g")
    client.create_bucket(name)
    yield name
    for page in client.list(name, versions=True):
        for o in page.objects:
            client.delete(name, o.key, o.version_id)
    client.delete_bucket(name)
