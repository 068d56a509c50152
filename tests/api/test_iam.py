"""The IAM Query API through boto3's IAM client against the real server (2 workers): users,
access keys (the new key works for S3 as a user of its own; disabled or deleted it stops),
inline and managed policies, IAM's error shapes, who may call it, and an upgraded data folder
whose auth-file user keeps its buckets across a key rotation."""
import json
import os
import tarfile
import time
import xml.etree.ElementTree as ET

import boto3
import pytest
import requests
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

from s3ish.s3.auth.credentials import legacy_owner_id
from tests.support import (ALT_PASSWORD, ALT_USER, ROOT_PASSWORD, ROOT_USER, ServerProcess,
                           unique_bucket)

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures")
ALLOW_ALL_S3 = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})


def iam_client(server, user=ROOT_USER, password=ROOT_PASSWORD):
    return boto3.client("iam", endpoint_url=server.endpoint, aws_access_key_id=user,
                        aws_secret_access_key=password, region_name="us-east-1",
                        config=BotoConfig(retries={"max_attempts": 1},
                                          parameter_validation=False))


def eventually(fn, until=lambda result: True, seconds=3.0, codes=("InvalidAccessKeyId",)):
    """Call fn until it returns without an error of `codes` and `until(result)`: another
    worker sees an identity change within its poll interval (0.1 s)."""
    deadline = time.time() + seconds
    while True:
        try:
            result = fn()
            if until(result):
                return result
        except ClientError as e:
            if e.response["Error"]["Code"] not in codes or time.time() > deadline:
                raise
        if time.time() > deadline:
            return result
        time.sleep(0.05)


SETTLE = 0.5    # five poll intervals: by then every worker has seen an identity change


def everywhere(server, key: dict, n: int = 6) -> set[str]:
    """The outcomes ("" or an error code) of ListBuckets signed with `key` on n fresh
    connections, once identity changes have settled: each connection may land on any worker
    process (they share the listening socket), so with 2 workers both are asked."""
    time.sleep(SETTLE)
    out = set()
    for _ in range(n):
        client = server.client(key["AccessKeyId"], key["SecretAccessKey"])
        try:
            client.list_buckets()
            out.add("")
        except ClientError as e:
            out.add(e.response["Error"]["Code"])
        client.close()
    return out


def code_of(e) -> tuple[int, str]:
    return e.value.response["ResponseMetadata"]["HTTPStatusCode"], \
        e.value.response["Error"]["Code"]


@pytest.fixture(scope="module")
def iam(server):
    return iam_client(server)


def test_user_key_and_policy_lifecycle(server, iam, s3):
    name = unique_bucket("user")
    user = iam.create_user(UserName=name)["User"]
    assert user["UserName"] == name and user["Arn"].endswith(f":user/{name}")
    key = iam.create_access_key(UserName=name)["AccessKey"]
    assert key["Status"] == "Active" and len(key["SecretAccessKey"]) == 40
    iam.put_user_policy(UserName=name, PolicyName="s3", PolicyDocument=ALLOW_ALL_S3)
    assert iam.list_user_policies(UserName=name)["PolicyNames"] == ["s3"]
    assert iam.get_user_policy(UserName=name, PolicyName="s3")["PolicyDocument"] == \
        json.loads(ALLOW_ALL_S3)

    # The key works for S3, as a user with a canonical id of its own.
    mine = server.client(key["AccessKeyId"], key["SecretAccessKey"])
    bucket = unique_bucket()
    eventually(lambda: mine.create_bucket(Bucket=bucket))
    owner = eventually(lambda: mine.list_buckets())["Owner"]
    assert owner["ID"] == user["UserId"] != s3.list_buckets()["Owner"]["ID"]
    assert [b["Name"] for b in mine.list_buckets()["Buckets"]] == [bucket]

    # Disabled: refused in every worker; enabled again: accepted.
    iam.update_access_key(UserName=name, AccessKeyId=key["AccessKeyId"], Status="Inactive")
    assert iam.list_access_keys(UserName=name)["AccessKeyMetadata"][0]["Status"] == "Inactive"
    assert everywhere(server, key) == {"InvalidAccessKeyId"}
    iam.update_access_key(UserName=name, AccessKeyId=key["AccessKeyId"], Status="Active")
    assert everywhere(server, key) == {""}

    with pytest.raises(ClientError) as e:
        iam.delete_user(UserName=name)
    assert code_of(e) == (409, "DeleteConflict")
    mine.delete_bucket(Bucket=bucket)
    iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
    assert everywhere(server, key) == {"InvalidAccessKeyId"}
    iam.delete_user_policy(UserName=name, PolicyName="s3")
    iam.delete_user(UserName=name)
    with pytest.raises(ClientError) as e:
        iam.get_user(UserName=name)
    assert code_of(e) == (404, "NoSuchEntity")


def test_rotated_key_keeps_the_users_buckets(server, iam):
    name, bucket = unique_bucket("rot"), unique_bucket()
    iam.create_user(UserName=name)
    old = iam.create_access_key(UserName=name)["AccessKey"]
    first = server.client(old["AccessKeyId"], old["SecretAccessKey"])
    eventually(lambda: first.create_bucket(Bucket=bucket))
    first.put_object(Bucket=bucket, Key="k", Body=b"kept")
    new = iam.create_access_key(UserName=name)["AccessKey"]
    iam.delete_access_key(UserName=name, AccessKeyId=old["AccessKeyId"])
    assert everywhere(server, old) == {"InvalidAccessKeyId"}
    second = server.client(new["AccessKeyId"], new["SecretAccessKey"])
    assert [b["Name"] for b in second.list_buckets()["Buckets"]] == [bucket]
    assert second.get_object(Bucket=bucket, Key="k")["Body"].read() == b"kept"
    second.delete_object(Bucket=bucket, Key="k")
    second.delete_bucket(Bucket=bucket)
    iam.delete_access_key(UserName=name, AccessKeyId=new["AccessKeyId"])
    iam.delete_user(UserName=name)


def test_managed_policies(iam):
    user, pname = unique_bucket("mp"), unique_bucket("pol")
    iam.create_user(UserName=user, Path="/team/")
    policy = iam.create_policy(PolicyName=pname, PolicyDocument=ALLOW_ALL_S3,
                               Description="all of S3")["Policy"]
    assert policy["Arn"].endswith(f":policy/{pname}") and policy["AttachmentCount"] == 0
    iam.attach_user_policy(UserName=user, PolicyArn=policy["Arn"])
    assert iam.get_policy(PolicyArn=policy["Arn"])["Policy"]["AttachmentCount"] == 1
    assert iam.list_attached_user_policies(UserName=user)["AttachedPolicies"] == [
        {"PolicyName": pname, "PolicyArn": policy["Arn"]}]
    version = iam.get_policy_version(PolicyArn=policy["Arn"], VersionId="v1")
    assert version["PolicyVersion"]["Document"] == json.loads(ALLOW_ALL_S3)
    assert pname in [p["PolicyName"] for p in iam.list_policies(Scope="Local")["Policies"]]
    with pytest.raises(ClientError) as e:
        iam.delete_policy(PolicyArn=policy["Arn"])
    assert code_of(e) == (409, "DeleteConflict")
    iam.detach_user_policy(UserName=user, PolicyArn=policy["Arn"])
    iam.delete_policy(PolicyArn=policy["Arn"])
    assert [u["Path"] for u in iam.list_users(PathPrefix="/team/")["Users"]] == ["/team/"]
    iam.delete_user(UserName=user)


def test_groups(server, iam):
    user, group = unique_bucket("gu"), unique_bucket("grp")
    iam.create_user(UserName=user)
    created = iam.create_group(GroupName=group, Path="/g/")["Group"]
    assert created["Arn"].endswith(f":group/g/{group}")
    iam.add_user_to_group(GroupName=group, UserName=user)
    iam.put_group_policy(GroupName=group, PolicyName="s3", PolicyDocument=ALLOW_ALL_S3)
    got = iam.get_group(GroupName=group)
    assert [u["UserName"] for u in got["Users"]] == [user]
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName=user)["Groups"]] == [group]
    assert group in [g["GroupName"] for g in iam.list_groups(PathPrefix="/g/")["Groups"]]
    assert iam.list_group_policies(GroupName=group)["PolicyNames"] == ["s3"]
    assert iam.get_group_policy(GroupName=group, PolicyName="s3")["PolicyDocument"] == \
        json.loads(ALLOW_ALL_S3)
    with pytest.raises(ClientError) as e:
        iam.delete_user(UserName=user)
    assert code_of(e) == (409, "DeleteConflict")
    iam.remove_user_from_group(GroupName=group, UserName=user)
    iam.delete_group_policy(GroupName=group, PolicyName="s3")
    iam.delete_group(GroupName=group)
    iam.delete_user(UserName=user)
    with pytest.raises(ClientError) as e:
        iam.get_group(GroupName=group)
    assert code_of(e) == (404, "NoSuchEntity")


def test_aws_managed_policies_user_ids_and_empty_role_listings(server, iam):
    user, group = unique_bucket("aw"), unique_bucket("ag")
    created = iam.create_user(UserName=user)["User"]
    full = "arn:aws:iam::aws:policy/AmazonS3FullAccess"
    iam.attach_user_policy(UserName=user, PolicyArn=full)
    assert iam.list_attached_user_policies(UserName=user)["AttachedPolicies"] == [
        {"PolicyName": "AmazonS3FullAccess", "PolicyArn": full}]
    assert "AmazonS3ReadOnlyAccess" in [
        p["PolicyName"] for p in iam.list_policies(Scope="AWS")["Policies"]]
    with pytest.raises(ClientError) as e:
        iam.delete_policy(PolicyArn=full)
    assert code_of(e) == (400, "InvalidInput")
    with pytest.raises(ClientError) as e:
        iam.attach_user_policy(UserName=user, PolicyArn="arn:aws:iam::aws:policy/NoSuch")
    assert code_of(e) == (404, "NoSuchEntity")
    # Ceph RGW's IAM API (and its s3-tests) name users by their canonical id.
    by_id = iam.list_attached_user_policies(UserName=created["UserId"])["AttachedPolicies"]
    assert [p["PolicyArn"] for p in by_id] == [full]
    iam.detach_user_policy(UserName=created["UserId"], PolicyArn=full)
    iam.create_group(GroupName=group)
    iam.update_group(GroupName=group, NewGroupName=group + "x", NewPath="/renamed/")
    assert iam.get_group(GroupName=group + "x")["Group"]["Path"] == "/renamed/"
    iam.delete_group(GroupName=group + "x")
    assert iam.list_roles()["Roles"] == []             # s3ish has no roles
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == []
    iam.delete_user(UserName=user)


def test_errors_in_iam_shapes(server, iam):
    name = unique_bucket("err")
    iam.create_user(UserName=name)
    with pytest.raises(ClientError) as e:
        iam.create_user(UserName=name.upper())          # names are case-insensitive
    assert code_of(e) == (409, "EntityAlreadyExists")
    with pytest.raises(ClientError) as e:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*",
                                                     "Resource": "*", "Principal": "*"}]}))
    assert code_of(e) == (400, "MalformedPolicyDocument")
    with pytest.raises(ClientError) as e:
        iam.put_user_policy(UserName="no-such-user-x", PolicyName="p",
                            PolicyDocument=ALLOW_ALL_S3)
    assert code_of(e) == (404, "NoSuchEntity")
    iam.create_access_key(UserName=name)
    iam.create_access_key(UserName=name)
    with pytest.raises(ClientError) as e:
        iam.create_access_key(UserName=name)
    assert code_of(e) == (409, "LimitExceeded")
    # The raw shape: <ErrorResponse><Error><Type>Sender</Type><Code>...
    from tests.support import signed_request
    body = b"Action=GetUser&Version=2010-05-08&UserName=no-such-user-y"
    url, headers = signed_request(server, "POST", "/", body, service="iam", headers={
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    resp = requests.post(url, data=body, headers=headers, timeout=10)
    ns = {"i": "https://iam.amazonaws.com/doc/2010-05-08/"}
    root = ET.fromstring(resp.content)
    assert resp.status_code == 404 and root.tag.endswith("ErrorResponse")
    assert root.findtext("i:Error/i:Type", namespaces=ns) == "Sender"
    assert root.findtext("i:Error/i:Code", namespaces=ns) == "NoSuchEntity"
    for k in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]:
        iam.delete_access_key(UserName=name, AccessKeyId=k["AccessKeyId"])
    iam.delete_user(UserName=name)


def test_only_root_or_an_allowed_user_may_call_it(server, iam):
    alt = iam_client(server, ALT_USER, ALT_PASSWORD)
    with pytest.raises(ClientError) as e:
        alt.list_users()
    assert code_of(e) == (403, "AccessDenied")
    with pytest.raises(ClientError) as e:
        alt.create_user(UserName=unique_bucket("nope"))
    assert code_of(e) == (403, "AccessDenied")
    # An identity policy allowing iam:ListUsers lets the auth-file user list, nothing more.
    iam.put_user_policy(UserName=ALT_USER, PolicyName="list", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*"}]}))
    try:
        users = eventually(lambda: alt.list_users(), codes=("AccessDenied",))
        assert ALT_USER in [u["UserName"] for u in users["Users"]]
        with pytest.raises(ClientError) as e:
            alt.create_user(UserName=unique_bucket("nope"))
        assert code_of(e) == (403, "AccessDenied")
    finally:
        iam.delete_user_policy(UserName=ALT_USER, PolicyName="list")
    with pytest.raises(ClientError) as e:
        boto3.client("iam", endpoint_url=server.endpoint, aws_access_key_id="NOSUCHKEY",
                     aws_secret_access_key="x", region_name="us-east-1").list_users()
    assert code_of(e) == (403, "InvalidClientTokenId")


def test_legacy_folder_keeps_owners_across_key_rotation(tmp_path):
    """A data folder written before users were stored: the auth-file user still owns and
    reads its bucket, before and after its key is rotated through IAM and a restart."""
    with tarfile.open(os.path.join(FIXTURES, "legacy-users-folder.tar.gz")) as tar:
        tar.extractall(tmp_path, filter="data")
    srv = ServerProcess(str(tmp_path / "data"), str(tmp_path)).start()
    try:
        alt = srv.client(ALT_USER, ALT_PASSWORD)
        listed = alt.list_buckets()
        assert [b["Name"] for b in listed["Buckets"]] == ["legacy-alt"]
        assert listed["Owner"]["ID"] == legacy_owner_id(ALT_USER)
        assert alt.get_object(Bucket="legacy-alt", Key="hello.txt")["Body"].read() == \
            b"written before users"
        assert [b["Name"] for b in srv.client().list_buckets()["Buckets"]] == ["legacy-root"]
        iam = iam_client(srv)
        new = iam.create_access_key(UserName=ALT_USER)["AccessKey"]
        iam.delete_access_key(UserName=ALT_USER, AccessKeyId=ALT_USER)
    finally:
        srv.stop()
    srv.start()                 # the auth file still names the old key: not brought back
    try:
        with pytest.raises(ClientError) as e:
            srv.client(ALT_USER, ALT_PASSWORD).list_buckets()
        assert code_of(e) == (403, "InvalidAccessKeyId")
        rotated = srv.client(new["AccessKeyId"], new["SecretAccessKey"])
        listed = rotated.list_buckets()
        assert [b["Name"] for b in listed["Buckets"]] == ["legacy-alt"]
        assert listed["Owner"]["ID"] == legacy_owner_id(ALT_USER)
        assert rotated.get_object(Bucket="legacy-alt", Key="hello.txt")["Body"].read() == \
            b"written before users"
        rotated.put_object(Bucket="legacy-alt", Key="after", Body=b"x")
        assert [u["UserName"] for u in iam_client(srv).list_users()["Users"]] == [ALT_USER]
    finally:
        srv.stop()
