"""Authentication and authorization of gRPC calls: a bad signature, an unknown key, a clock
skew past 15 minutes, a replayed call (also when the replay reaches the other worker), a
signature for another resource or a tampered message; then the S3 front end's authorize step:
a user made through the IAM API with no policy is refused, and allowed by a policy."""
import json
import subprocess
import sys
import time

import grpc
import pytest

from s3ish.grpc import signing
from s3ish.grpc.client import Client, error_code
from s3ish.grpc.v1 import storage_pb2 as pb
from tests.api.test_iam import iam_client
from tests.support import ROOT_PASSWORD, ROOT_USER

U = grpc.StatusCode.UNAUTHENTICATED


def head_with(client, bucket, key, metadata, request=None):
    request = request or pb.HeadObjectRequest(bucket=bucket, key=key)
    with pytest.raises(grpc.RpcError) as e:
        client.stub.HeadObject(request, metadata=metadata)
    return e.value.code(), error_code(e.value)


def signed(bucket, key, request, secret=ROOT_PASSWORD, user=ROOT_USER, now=None,
           method="HeadObject", region="us-east-1"):
    return signing.sign(user, secret, region, "/s3ish.v1.Storage/" + method,
                        signing.resource(bucket, key), signing.payload_hash(request), now=now)


def test_bad_signature_unknown_key_and_skew(client, gbucket):
    client.put(gbucket, "k", b"x")
    req = pb.HeadObjectRequest(bucket=gbucket, key="k")
    assert head_with(client, gbucket, "k", signed(gbucket, "k", req, secret="wrong"),
                     req) == (U, "SignatureDoesNotMatch")
    assert head_with(client, gbucket, "k", signed(gbucket, "k", req, user="nobody"),
                     req) == (U, "InvalidAccessKeyId")
    assert head_with(client, gbucket, "k", signed(gbucket, "k", req, region="eu-west-1"),
                     req) == (U, "SignatureDoesNotMatch")
    assert head_with(client, gbucket, "k", signed(gbucket, "k", req, now=time.time() - 16 * 60),
                     req) == (U, "RequestTimeTooSkewed")
    assert head_with(client, gbucket, "k", signed(gbucket, "k", req, now=time.time() + 16 * 60),
                     req) == (U, "RequestTimeTooSkewed")
    # Within the window it is accepted (14 minutes late).
    client.stub.HeadObject(req, metadata=signed(gbucket, "k", req, now=time.time() - 14 * 60))
    assert head_with(client, gbucket, "k", [], req) == (U, "AccessDenied")


def test_signature_binds_resource_method_and_message(client, gbucket):
    client.put(gbucket, "k", b"x")
    req = pb.HeadObjectRequest(bucket=gbucket, key="k")
    # Signed for another key, another method, or another message: refused.
    other = pb.HeadObjectRequest(bucket=gbucket, key="other")
    assert head_with(client, gbucket, "k", signed(gbucket, "other", other), req) == (
        U, "SignatureDoesNotMatch")
    assert head_with(client, gbucket, "k", signed(gbucket, "k", req, method="DeleteObject"),
                     req) == (U, "SignatureDoesNotMatch")
    tampered = pb.HeadObjectRequest(bucket=gbucket, key="k", version_id="null")
    assert head_with(client, gbucket, "k", signed(gbucket, "k", req), tampered) == (
        U, "SignatureDoesNotMatch")
    # A stream (WriteObject) is UNSIGNED-PAYLOAD: its first message must name the resource
    # that was signed.
    spec = pb.WriteObjectSpec(bucket=gbucket, key="elsewhere")
    msg = pb.WriteObjectRequest(write_object_spec=spec, finish_write=True)
    with pytest.raises(grpc.RpcError) as e:
        client.stub.WriteObject(iter([msg]), metadata=client.metadata("WriteObject", gbucket,
                                                                      "k"))
    assert (e.value.code(), error_code(e.value)) == (U, "SignatureDoesNotMatch")


def test_replay_is_refused(grpc_server, client, gbucket):
    client.put(gbucket, "k", b"x")
    req = pb.HeadObjectRequest(bucket=gbucket, key="k")
    md = signed(gbucket, "k", req)
    client.stub.HeadObject(req, metadata=md)
    assert head_with(client, gbucket, "k", md, req) == (U, "AccessDenied")
    # The server has two workers sharing the port: replays on fresh connections (spread by
    # the kernel among them) are all refused.
    md = signed(gbucket, "k", req)
    client.stub.HeadObject(req, metadata=md)
    for _ in range(6):
        with Client(grpc_server.grpc_target, ROOT_USER, ROOT_PASSWORD) as fresh:
            assert head_with(fresh, gbucket, "k", md, req) == (U, "AccessDenied")


def test_authorize_step_is_the_s3_one(grpc_server, client, gbucket):
    client.put(gbucket, "secret", b"classified")
    iam = iam_client(grpc_server)
    name = "grpc-user-" + gbucket[-6:]
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    deadline = time.time() + 3
    with Client(grpc_server.grpc_target, key["AccessKeyId"], key["SecretAccessKey"]) as user:
        while True:        # every worker learns of the new key within its poll interval
            try:
                user.head(gbucket, "secret")
            except grpc.RpcError as e:
                if error_code(e) != "InvalidAccessKeyId" or time.time() > deadline:
                    break
            time.sleep(0.05)
        for call in (lambda: user.head(gbucket, "secret"),
                     lambda: list(user.read(gbucket, "secret")[2]),
                     lambda: user.put(gbucket, "new", b"y"),
                     lambda: user.delete(gbucket, "secret"),
                     lambda: user.list_page(gbucket),
                     lambda: user.delete_bucket(gbucket)):
            with pytest.raises(grpc.RpcError) as e:
                call()
            assert (e.value.code(), error_code(e.value)) == (
                grpc.StatusCode.PERMISSION_DENIED, "AccessDenied")
        # An identity policy allowing s3:GetObject on the bucket's objects: reads work, the
        # rest is still refused.
        iam.put_user_policy(UserName=name, PolicyName="read", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                                                    "Action": "s3:GetObject",
                                                    "Resource": f"arn:aws:s3:::{gbucket}/*"}]}))
        deadline = time.time() + 3
        while True:
            try:
                _, _, chunks = user.read(gbucket, "secret")
                assert b"".join(chunks) == b"classified"
                break
            except grpc.RpcError:
                if time.time() > deadline:
                    raise
                time.sleep(0.05)
        with pytest.raises(grpc.RpcError) as e:
            user.put(gbucket, "new", b"y")
        assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_seed_header_auth_when_allowed(client, gbucket, tmp_path):
    client.put(gbucket, "k", b"x")
    req = pb.HeadObjectRequest(bucket=gbucket, key="k")
    pair = [("x-access-key", ROOT_USER), ("x-secret-key", ROOT_PASSWORD)]
    assert client.stub.HeadObject(req, metadata=pair).size == 1
    assert head_with(client, gbucket, "k", [pair[0], ("x-secret-key", "wrong")], req) == (
        U, "SignatureDoesNotMatch")
    assert head_with(client, gbucket, "k", [pair[0]], req) == (
        grpc.StatusCode.INVALID_ARGUMENT, "InvalidArgument")
    # Refused on a non-loopback gRPC listener without TLS, as on HTTP.
    out = subprocess.run([sys.executable, "-m", "s3ish", "server", "--data", ":memory:",
                          "--protocol", "both", "--grpc-listen", "0.0.0.0:0",
                          "--allow-header-auth"], capture_output=True, text=True, timeout=60,
                         env={**__import__("os").environ, "S3ISH_ROOT_USER": "r",
                              "S3ISH_ROOT_PASSWORD": "rootsecret"})
    assert out.returncode != 0 and "non-loopback gRPC address" in out.stderr


def test_cli_put_get_ls(grpc_server, gbucket, tmp_path):
    src = tmp_path / "in.bin"
    src.write_bytes(b"cli bytes" * 1000)
    env = {"S3ISH_GRPC_ENDPOINT": grpc_server.grpc_target, "AWS_ACCESS_KEY_ID": ROOT_USER,
           "AWS_SECRET_ACCESS_KEY": ROOT_PASSWORD, "PATH": "/usr/bin:/bin"}
    env.update({k: v for k, v in __import__("os").environ.items() if k == "PYTHONPATH"})

    def run(*args):
        return subprocess.run([sys.executable, "-m", "s3ish", "grpc", *args], env=env,
                              capture_output=True, text=True, timeout=60)
    out = run("put", f"{gbucket}/d/f.bin", str(src), "--meta", "a=b")
    assert out.returncode == 0, out.stderr
    assert "9000 bytes" in out.stdout
    dst = tmp_path / "out.bin"
    assert run("get", f"{gbucket}/d/f.bin", str(dst)).returncode == 0
    assert dst.read_bytes() == src.read_bytes()
    listing = run("ls", gbucket)
    assert "PRE" in listing.stdout and "d/" in listing.stdout
    assert "d/f.bin" in run("ls", gbucket, "--recursive").stdout
    assert gbucket in run("ls").stdout
    missing = run("get", f"{gbucket}/nope", str(tmp_path / "x"))
    assert missing.returncode == 1 and "NOT_FOUND NoSuchKey: The specified key" in missing.stderr
    assert not (tmp_path / "x").exists()
