"""Users, access keys and policies made through the IAM API survive the loss of the drive
holding the metadata index: the index is rebuilt from the journal on the other drives."""
import json
import os
import shutil

from tests.api.test_iam import eventually, iam_client
from tests.support import ServerProcess


def test_users_and_keys_survive_losing_the_index_drive(tmp_path):
    drives = [str(tmp_path / f"d{i}") for i in range(1, 5)]
    srv = ServerProcess(drives, str(tmp_path), extra_args=["--scrub-rate", "0"]).start()
    try:
        iam = iam_client(srv)
        user = iam.create_user(UserName="survivor")["User"]
        key = iam.create_access_key(UserName="survivor")["AccessKey"]
        iam.put_user_policy(UserName="survivor", PolicyName="p", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
        mine = srv.client(key["AccessKeyId"], key["SecretAccessKey"])
        eventually(lambda: mine.create_bucket(Bucket="kept"))
    finally:
        srv.stop()
    shutil.rmtree(drives[0])            # the drive with the index (and a journal copy)...
    os.makedirs(drives[0])              # ...replaced by an empty disk
    srv.start()
    try:
        assert "rebuilding it from the journal" in srv.read_log()
        mine = srv.client(key["AccessKeyId"], key["SecretAccessKey"])
        listed = mine.list_buckets()
        assert [b["Name"] for b in listed["Buckets"]] == ["kept"]
        assert listed["Owner"]["ID"] == user["UserId"]
        iam = iam_client(srv)
        assert iam.list_user_policies(UserName="survivor")["PolicyNames"] == ["p"]
    finally:
        srv.stop()
