"""ACLs and object ownership controls through boto3: canned ACLs and x-amz-grant-* headers on
every write, Put/Get Bucket/Object Acl (with versionId), ownership controls and their errors,
the server's --acl-mode, and a data folder written before ACLs existed."""
import os
import tarfile

import botocore.exceptions
import pytest
import requests

from s3ish.s3.auth.credentials import legacy_owner_id
from tests.conftest import empty_bucket
from tests.support import (ALT_PASSWORD, ALT_USER, ROOT_USER, ServerProcess, error_code,
                           signed_request, unique_bucket)

ROOT_ID, ALT_ID = legacy_owner_id(ROOT_USER), legacy_owner_id(ALT_USER)
ALT_EMAIL = "alt@example.com"
ALL = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTH = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
LOGS = "http://acs.amazonaws.com/groups/s3/LogDelivery"
EXEC = "6aa5a366c34c1cbe25dc49211496e913e0351eb0e8c37aa3477e40942ec6b97c"
OWNER_FC = ("id", ROOT_ID, "FULL_CONTROL")
FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures")


def _start(tmp, *extra):
    srv = ServerProcess(str(tmp / "data"), str(tmp), extra_args=list(extra))
    with open(srv.auth_file, "w") as f:
        f.write(f"{ALT_USER}:{ALT_PASSWORD}:Alt User:{ALT_EMAIL}\n")
    return srv.start()


@pytest.fixture(scope="module")
def writer_server(tmp_path_factory):
    """ObjectWriter by default, as Ceph RGW: ACLs take effect."""
    srv = _start(tmp_path_factory.mktemp("acl"), "--default-ownership", "ObjectWriter")
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def c(writer_server):
    return writer_server.client()


@pytest.fixture
def wb(c):
    name = unique_bucket("acl")
    c.create_bucket(Bucket=name)
    yield name
    empty_bucket(c, name)
    c.delete_bucket(Bucket=name)


def _err(call, **kw) -> tuple[int, str]:
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call(**kw)
    return e.value.response["ResponseMetadata"]["HTTPStatusCode"], \
        e.value.response["Error"]["Code"]


def _grants(resp) -> list[tuple[str, str, str]]:
    out = []
    for g in resp["Grants"]:
        ge = g["Grantee"]
        if ge["Type"] == "CanonicalUser":
            out.append(("id", ge["ID"], g["Permission"]))
        else:
            assert ge["Type"] == "Group"
            out.append(("uri", ge["URI"], g["Permission"]))
    return out


CANNED_BUCKET = {
    "private": [OWNER_FC],
    "public-read": [("uri", ALL, "READ"), OWNER_FC],
    "public-read-write": [("uri", ALL, "READ"), ("uri", ALL, "WRITE"), OWNER_FC],
    "authenticated-read": [("uri", AUTH, "READ"), OWNER_FC],
    "aws-exec-read": [("id", EXEC, "READ"), OWNER_FC],
    "log-delivery-write": [("uri", LOGS, "WRITE"), ("uri", LOGS, "READ_ACP"), OWNER_FC],
    # Object-only ACLs: on a bucket (or written by the bucket owner) nothing but private.
    "bucket-owner-read": [OWNER_FC],
    "bucket-owner-full-control": [OWNER_FC],
}


@pytest.mark.parametrize("canned", sorted(CANNED_BUCKET))
def test_canned_acl_on_bucket(c, canned):
    name = unique_bucket("acl")
    c.create_bucket(Bucket=name, ACL=canned)
    try:
        acl = c.get_bucket_acl(Bucket=name)
        assert acl["Owner"] == {"ID": ROOT_ID, "DisplayName": ROOT_USER}
        assert _grants(acl) == CANNED_BUCKET[canned]
        c.put_bucket_acl(Bucket=name, ACL="private")
        assert _grants(c.get_bucket_acl(Bucket=name)) == [OWNER_FC]
        c.put_bucket_acl(Bucket=name, ACL=canned)
        assert _grants(c.get_bucket_acl(Bucket=name)) == CANNED_BUCKET[canned]
    finally:
        c.delete_bucket(Bucket=name)


@pytest.mark.parametrize("canned", sorted(CANNED_BUCKET))
def test_canned_acl_on_object(c, wb, canned):
    c.put_object(Bucket=wb, Key="k", Body=b"x", ACL=canned)
    assert _grants(c.get_object_acl(Bucket=wb, Key="k")) == CANNED_BUCKET[canned]
    c.put_object_acl(Bucket=wb, Key="k", ACL="private")
    assert _grants(c.get_object_acl(Bucket=wb, Key="k")) == [OWNER_FC]
    c.put_object_acl(Bucket=wb, Key="k", ACL=canned)
    assert _grants(c.get_object_acl(Bucket=wb, Key="k")) == CANNED_BUCKET[canned]
    assert c.get_object(Bucket=wb, Key="k")["Body"].read() == b"x"


def test_grant_headers(c, wb):
    c.put_object(Bucket=wb, Key="k", Body=b"x", GrantRead=f'id="{ALT_ID}", uri="{AUTH}"',
                 GrantWriteACP=f'emailAddress="{ALT_EMAIL}"', GrantFullControl=f"id={ROOT_ID}")
    got = _grants(c.get_object_acl(Bucket=wb, Key="k"))
    assert got == [("id", ALT_ID, "READ"), ("uri", AUTH, "READ"),
                   ("id", ALT_ID, "WRITE_ACP"), OWNER_FC]
    # Grant headers list exactly what they grant: no implicit owner grant.
    c.put_object_acl(Bucket=wb, Key="k", GrantReadACP=f'id="{ALT_ID}"')
    assert _grants(c.get_object_acl(Bucket=wb, Key="k")) == [("id", ALT_ID, "READ_ACP")]
    name = unique_bucket("acl")
    c.create_bucket(Bucket=name, GrantRead=f'uri="{ALL}"', GrantWrite=f'id="{ALT_ID}"')
    try:
        assert _grants(c.get_bucket_acl(Bucket=name)) == [("uri", ALL, "READ"),
                                                          ("id", ALT_ID, "WRITE")]
    finally:
        c.delete_bucket(Bucket=name)


@pytest.mark.parametrize("kw, code", [
    ({"ACL": "public-read", "GrantRead": f'uri="{ALL}"'}, "InvalidRequest"),
    ({"GrantRead": 'emailAddress="nobody@example.com"'}, "UnresolvableGrantByEmailAddress"),
    ({"GrantRead": 'id="_foo"'}, "InvalidArgument"),
    ({"GrantRead": 'uri="http://acs.amazonaws.com/groups/global/Nobody"'}, "InvalidArgument"),
    ({"GrantRead": 'name="x"'}, "InvalidArgument"),
])
def test_bad_acl_headers_are_refused(c, wb, kw, code):
    assert _err(c.put_object, Bucket=wb, Key="k", Body=b"x", **kw) == (400, code)
    assert _err(c.create_multipart_upload, Bucket=wb, Key="k", **kw) == (400, code)
    assert "Contents" not in c.list_objects_v2(Bucket=wb)
    assert _err(c.create_bucket, Bucket=unique_bucket("acl"), **kw) == (400, code)


def test_unknown_canned_acl(c, wb):
    url, headers = signed_request(_srv(c), "PUT", f"/{wb}/k", b"x",
                                  {"x-amz-acl": "public-everything"})
    r = requests.put(url, headers=headers, data=b"x", timeout=30)
    assert (r.status_code, error_code(r)) == (400, "InvalidArgument")


def _srv(client):
    class S:
        endpoint = client.meta.endpoint_url
    return S


def test_acl_policy_round_trip_and_errors(c, wb):
    c.put_object(Bucket=wb, Key="k", Body=b"x")
    owner = c.get_object_acl(Bucket=wb, Key="k")["Owner"]
    policy = {"Owner": owner, "Grants": [
        {"Grantee": {"Type": "AmazonCustomerByEmail", "EmailAddress": ALT_EMAIL},
         "Permission": "READ"},
        {"Grantee": {"Type": "Group", "URI": ALL}, "Permission": "READ_ACP"},
        {"Grantee": {"Type": "CanonicalUser", "ID": ROOT_ID}, "Permission": "FULL_CONTROL"}]}
    c.put_object_acl(Bucket=wb, Key="k", AccessControlPolicy=policy)
    got = c.get_object_acl(Bucket=wb, Key="k")
    assert got["Grants"][0] == {"Grantee": {"Type": "CanonicalUser", "ID": ALT_ID,
                                            "DisplayName": "Alt User"}, "Permission": "READ"}
    assert _grants(got) == [("id", ALT_ID, "READ"), ("uri", ALL, "READ_ACP"), OWNER_FC]
    c.put_bucket_acl(Bucket=wb, AccessControlPolicy={"Owner": owner, "Grants": []})
    assert c.get_bucket_acl(Bucket=wb)["Grants"] == []          # revoked, even the owner's
    for grants, code in [
            ([{"Grantee": {"Type": "CanonicalUser", "ID": "_foo"}, "Permission": "READ"}],
             "InvalidArgument"),
            ([{"Grantee": {"Type": "CanonicalUser", "ID": ALT_ID}, "Permission": "ALL"}],
             "MalformedACLError"),
            ([{"Grantee": {"Type": "Group", "ID": ALT_ID}, "Permission": "READ"}],
             "MalformedACLError"),
            ([{"Grantee": {"Type": "AmazonCustomerByEmail", "EmailAddress": "x@y.z"},
               "Permission": "READ"}], "UnresolvableGrantByEmailAddress")]:
        assert _err(c.put_object_acl, Bucket=wb, Key="k", AccessControlPolicy={
            "Owner": owner, "Grants": grants}) == (400, code)
    assert _err(c.put_object_acl, Bucket=wb, Key="k", AccessControlPolicy={
        "Owner": {"ID": ALT_ID}, "Grants": []}) == (403, "AccessDenied")
    assert _grants(c.get_object_acl(Bucket=wb, Key="k"))[0] == ("id", ALT_ID, "READ")
    for body in (b"<AccessControlPolicy><AccessControlList>", b"<Other/>"):
        url, headers = signed_request(_srv(c), "PUT", f"/{wb}/k?acl", body)
        r = requests.put(url, headers=headers, data=body, timeout=30)
        assert (r.status_code, error_code(r)) == (400, "MalformedACLError")
    body = b"<AccessControlPolicy><AccessControlList/></AccessControlPolicy>"
    url, headers = signed_request(_srv(c), "PUT", f"/{wb}/k?acl", body,
                                  {"x-amz-acl": "private"})
    r = requests.put(url, headers=headers, data=body, timeout=30)
    assert (r.status_code, error_code(r)) == (400, "UnexpectedContent")
    url, headers = signed_request(_srv(c), "PUT", f"/{wb}?acl")
    r = requests.put(url, headers=headers, timeout=30)
    assert (r.status_code, error_code(r)) == (400, "MissingSecurityHeader")
    assert _err(c.get_object_acl, Bucket=wb, Key="missing") == (404, "NoSuchKey")


def test_object_acl_by_version(c, wb):
    c.put_bucket_versioning(Bucket=wb, VersioningConfiguration={"Status": "Enabled"})
    v1 = c.put_object(Bucket=wb, Key="k", Body=b"1", ACL="public-read")["VersionId"]
    v2 = c.put_object(Bucket=wb, Key="k", Body=b"2")["VersionId"]
    assert _grants(c.get_object_acl(Bucket=wb, Key="k")) == [OWNER_FC]
    assert _grants(c.get_object_acl(Bucket=wb, Key="k", VersionId=v1)) == \
        CANNED_BUCKET["public-read"]
    c.put_object_acl(Bucket=wb, Key="k", VersionId=v1, ACL="authenticated-read")
    c.put_object_acl(Bucket=wb, Key="k", VersionId=v2, ACL="public-read-write")
    assert _grants(c.get_object_acl(Bucket=wb, Key="k", VersionId=v1)) == \
        CANNED_BUCKET["authenticated-read"]
    assert _grants(c.get_object_acl(Bucket=wb, Key="k")) == CANNED_BUCKET["public-read-write"]
    assert _err(c.get_object_acl, Bucket=wb, Key="k", VersionId="nope") == \
        (400, "InvalidArgument")
    c.delete_object(Bucket=wb, Key="k")            # a delete marker is current now
    assert _err(c.get_object_acl, Bucket=wb, Key="k")[0] == 404
    assert _grants(c.get_object_acl(Bucket=wb, Key="k", VersionId=v2)) == \
        CANNED_BUCKET["public-read-write"]


def test_copy_multipart_and_post_take_the_request_acl(writer_server, c, wb):
    c.put_object(Bucket=wb, Key="src", Body=b"x", ACL="public-read")
    c.copy_object(Bucket=wb, Key="plain", CopySource={"Bucket": wb, "Key": "src"})
    assert _grants(c.get_object_acl(Bucket=wb, Key="plain")) == [OWNER_FC]   # not copied
    c.copy_object(Bucket=wb, Key="auth", CopySource={"Bucket": wb, "Key": "src"},
                  ACL="authenticated-read")
    assert _grants(c.get_object_acl(Bucket=wb, Key="auth")) == \
        CANNED_BUCKET["authenticated-read"]
    up = c.create_multipart_upload(Bucket=wb, Key="mp", GrantRead=f'id="{ALT_ID}"')
    etag = c.upload_part(Bucket=wb, Key="mp", UploadId=up["UploadId"], PartNumber=1,
                         Body=b"p")["ETag"]
    c.complete_multipart_upload(Bucket=wb, Key="mp", UploadId=up["UploadId"],
                                MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert _grants(c.get_object_acl(Bucket=wb, Key="mp")) == [("id", ALT_ID, "READ")]
    post = c.generate_presigned_post(wb, "posted", Fields={"acl": "public-read"},
                                     Conditions=[{"acl": "public-read"}])
    r = requests.post(post["url"], data=post["fields"], files={"file": ("f", b"body")},
                      timeout=30)
    assert r.status_code == 204, r.text
    assert _grants(c.get_object_acl(Bucket=wb, Key="posted")) == CANNED_BUCKET["public-read"]


def test_bucket_owner_enforced_is_the_default(s3, bucket):
    """The session server's default, as AWS: ACLs disabled."""
    rule = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
    assert rule == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ACL="bucket-owner-full-control")
    for call, kw in [(s3.put_object, {"Key": "k2", "Body": b"x", "ACL": "private"}),
                     (s3.put_object, {"Key": "k2", "Body": b"x", "GrantRead": f'id="{ALT_ID}"'}),
                     (s3.create_multipart_upload, {"Key": "k2", "ACL": "public-read"}),
                     (s3.copy_object, {"Key": "k2", "ACL": "private",
                                       "CopySource": {"Bucket": bucket, "Key": "k"}}),
                     (s3.put_bucket_acl, {"ACL": "private"}),
                     (s3.put_object_acl, {"Key": "k", "ACL": "public-read"})]:
        assert _err(call, Bucket=bucket, **kw) == (400, "AccessControlListNotSupported")
    # The equivalent of bucket-owner-full-control written as a document is accepted.
    owner = s3.get_bucket_acl(Bucket=bucket)["Owner"]
    s3.put_bucket_acl(Bucket=bucket, AccessControlPolicy={"Owner": owner, "Grants": [
        {"Grantee": {"Type": "CanonicalUser", "ID": owner["ID"]},
         "Permission": "FULL_CONTROL"}]})
    assert [k["Key"] for k in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["k"]
    assert _grants(s3.get_object_acl(Bucket=bucket, Key="k")) == [OWNER_FC]
    name = unique_bucket("acl")
    assert _err(s3.create_bucket, Bucket=name, ACL="public-read") == \
        (400, "InvalidBucketAclWithObjectOwnership")
    assert _err(s3.head_bucket, Bucket=name)[0] == 404
    s3.create_bucket(Bucket=name, ACL="private")
    s3.delete_bucket(Bucket=name)


def test_ownership_controls_transitions(c, wb):
    ctl = {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    assert c.get_bucket_ownership_controls(Bucket=wb)["OwnershipControls"] == \
        {"Rules": [{"ObjectOwnership": "ObjectWriter"}]}
    c.put_object(Bucket=wb, Key="k", Body=b"x", ACL="public-read")
    c.put_bucket_acl(Bucket=wb, ACL="public-read")
    assert _err(c.put_bucket_ownership_controls, Bucket=wb, OwnershipControls=ctl) == \
        (400, "InvalidBucketAclWithObjectOwnership")
    c.put_bucket_acl(Bucket=wb, ACL="private")
    c.put_bucket_ownership_controls(Bucket=wb, OwnershipControls=ctl)
    # Existing object ACLs are kept but inert: listed as the owner's only.
    assert _grants(c.get_object_acl(Bucket=wb, Key="k")) == [OWNER_FC]
    c.put_bucket_ownership_controls(Bucket=wb, OwnershipControls={
        "Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]})
    assert _grants(c.get_object_acl(Bucket=wb, Key="k")) == CANNED_BUCKET["public-read"]
    c.delete_bucket_ownership_controls(Bucket=wb)
    assert _err(c.get_bucket_ownership_controls, Bucket=wb) == \
        (404, "OwnershipControlsNotFoundError")
    c.delete_bucket_ownership_controls(Bucket=wb)     # nothing to delete: still fine
    c.put_object(Bucket=wb, Key="k2", Body=b"x", ACL="public-read-write")   # as ObjectWriter
    assert _grants(c.get_object_acl(Bucket=wb, Key="k2")) == CANNED_BUCKET["public-read-write"]
    for rules in ([], [{"ObjectOwnership": "Nobody"}],
                  [{"ObjectOwnership": "ObjectWriter"}, {"ObjectOwnership": "ObjectWriter"}]):
        assert _err(c.put_bucket_ownership_controls, Bucket=wb,
                    OwnershipControls={"Rules": rules}) == (400, "MalformedXML")
    assert _err(c.get_bucket_ownership_controls, Bucket=wb)[0] == 404
    assert _err(c.create_bucket, Bucket=unique_bucket("acl"), ObjectOwnership="Nobody") == \
        (400, "InvalidArgument")
    name = unique_bucket("acl")
    c.create_bucket(Bucket=name, ObjectOwnership="BucketOwnerPreferred")
    assert c.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"]["Rules"] == \
        [{"ObjectOwnership": "BucketOwnerPreferred"}]
    c.delete_bucket(Bucket=name)


@pytest.fixture(scope="module")
def ignoring(tmp_path_factory):
    srv = _start(tmp_path_factory.mktemp("ignore"), "--acl-mode", "ignore",
                 "--default-ownership", "none")
    yield srv.client()
    srv.stop()


def test_acl_mode_ignore_discards_acls(ignoring):
    c = ignoring
    name = unique_bucket("acl")
    c.create_bucket(Bucket=name, ACL="public-read-write")
    assert _grants(c.get_bucket_acl(Bucket=name)) == [OWNER_FC]
    # --default-ownership none: buckets without ownership controls (as Ceph RGW makes them).
    assert _err(c.get_bucket_ownership_controls, Bucket=name) == \
        (404, "OwnershipControlsNotFoundError")
    c.put_object(Bucket=name, Key="k", Body=b"x", GrantRead='emailAddress="nobody@x.y"')
    c.put_object_acl(Bucket=name, Key="k", ACL="public-read")
    c.put_bucket_acl(Bucket=name, AccessControlPolicy={"Owner": {"ID": ROOT_ID}, "Grants": [
        {"Grantee": {"Type": "Group", "URI": ALL}, "Permission": "WRITE"}]})
    assert _grants(c.get_object_acl(Bucket=name, Key="k")) == [OWNER_FC]
    assert _grants(c.get_bucket_acl(Bucket=name)) == [OWNER_FC]
    c.delete_object(Bucket=name, Key="k")
    c.delete_bucket(Bucket=name)


def test_acl_mode_record_stores_and_checks(tmp_path):
    srv = _start(tmp_path, "--acl-mode", "record")
    try:
        c = srv.client()
        name = unique_bucket("acl")
        c.create_bucket(Bucket=name, ObjectOwnership="ObjectWriter", ACL="public-read")
        assert _grants(c.get_bucket_acl(Bucket=name)) == CANNED_BUCKET["public-read"]
        c.put_object(Bucket=name, Key="k", Body=b"x", ACL="authenticated-read")
        assert _grants(c.get_object_acl(Bucket=name, Key="k")) == \
            CANNED_BUCKET["authenticated-read"]
        assert _err(c.put_object_acl, Bucket=name, Key="k", GrantRead='id="_foo"') == \
            (400, "InvalidArgument")
        # Ownership controls apply as in enforce mode.
        enforced = unique_bucket("acl")
        c.create_bucket(Bucket=enforced)
        assert _err(c.put_bucket_acl, Bucket=enforced, ACL="public-read") == \
            (400, "AccessControlListNotSupported")
    finally:
        srv.stop()


def test_data_folder_from_before_acls(tmp_path):
    """A set written before ACLs and ownership controls existed (tests/fixtures): its bucket
    has no ownership controls (it behaves as ObjectWriter), everything reads as private."""
    with tarfile.open(os.path.join(FIXTURES, "legacy-replaced-4drives.tar.gz")) as tar:
        tar.extractall(tmp_path)
    drives = [str(tmp_path / f"d{i}") for i in range(1, 5)]
    srv = ServerProcess(drives, str(tmp_path), extra_args=["--scrub-rate", "0"]).start()
    try:
        c = srv.client()
        assert _grants(c.get_bucket_acl(Bucket="legacy")) == [OWNER_FC]
        assert _grants(c.get_object_acl(Bucket="legacy", Key="small")) == [OWNER_FC]
        assert _err(c.get_bucket_ownership_controls, Bucket="legacy") == \
            (404, "OwnershipControlsNotFoundError")
        c.put_object_acl(Bucket="legacy", Key="small", ACL="public-read")
        assert _grants(c.get_object_acl(Bucket="legacy", Key="small")) == \
            CANNED_BUCKET["public-read"]
        assert c.get_object(Bucket="legacy", Key="small")["Body"].read() == \
            b"small inline object"
    finally:
        srv.stop()


def test_recreating_a_bucket_in_us_east_1_resets_its_acl(c, wb):
    c.put_bucket_acl(Bucket=wb, ACL="public-read")
    c.create_bucket(Bucket=wb)
    assert _grants(c.get_bucket_acl(Bucket=wb)) == [OWNER_FC]
    c.create_bucket(Bucket=wb, ACL="authenticated-read")
    assert _grants(c.get_bucket_acl(Bucket=wb)) == CANNED_BUCKET["authenticated-read"]


def test_iam_users_can_be_granted_by_canonical_id(writer_server, c, wb):
    from tests.api.test_iam import eventually, iam_client
    iam = iam_client(writer_server)
    user = iam.create_user(UserName=unique_bucket("grantee"))["User"]
    c.put_object(Bucket=wb, Key="k", Body=b"x")
    eventually(lambda: c.put_object_acl(Bucket=wb, Key="k", GrantRead=f'id="{user["UserId"]}"'),
               codes=("InvalidArgument",))
    assert _grants(c.get_object_acl(Bucket=wb, Key="k")) == [("id", user["UserId"], "READ")]
