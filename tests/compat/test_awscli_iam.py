"""The AWS CLI's `aws iam` against the server's IAM API, run as a user runs it (its own
config and credentials files, `--endpoint-url`): create a user, an access key and an inline
policy, then use the new key with `aws s3`."""
import json

from tests.api.test_iam import everywhere
from tests.compat.conftest import clean_env, run, tool
from tests.support import ROOT_PASSWORD, ROOT_USER, unique_bucket


def _aws(server, home, access_key, secret):
    exe = tool("aws")
    home.mkdir(exist_ok=True)
    config, creds = home / "config", home / "credentials"
    config.write_text("[default]\nregion = us-east-1\noutput = json\n"
                      "s3 =\n    addressing_style = path\n    signature_version = s3v4\n")
    creds.write_text(f"[default]\naws_access_key_id = {access_key}\n"
                     f"aws_secret_access_key = {secret}\n")
    env = clean_env(home, AWS_CONFIG_FILE=str(config), AWS_SHARED_CREDENTIALS_FILE=str(creds),
                    AWS_EC2_METADATA_DISABLED="true", AWS_PAGER="")

    def call(*args, check=True):
        p = run([exe, "--endpoint-url", server.endpoint, *args], env, server=server,
                check=check, timeout=120)
        return json.loads(p.stdout) if check and p.stdout.strip() else p
    return call


def test_aws_iam_create_user_key_and_policy(server, tmp_path):
    aws = _aws(server, tmp_path / "root", ROOT_USER, ROOT_PASSWORD)
    name = unique_bucket("cli")
    user = aws("iam", "create-user", "--user-name", name)["User"]
    assert user["UserName"] == name
    key = aws("iam", "create-access-key", "--user-name", name)["AccessKey"]
    doc = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    aws("iam", "put-user-policy", "--user-name", name, "--policy-name", "s3",
        "--policy-document", json.dumps(doc))
    assert aws("iam", "get-user-policy", "--user-name", name,
               "--policy-name", "s3")["PolicyDocument"] == doc
    assert [k["AccessKeyId"] for k in aws("iam", "list-access-keys", "--user-name", name)[
        "AccessKeyMetadata"]] == [key["AccessKeyId"]]
    assert name in [u["UserName"] for u in aws("iam", "list-users")["Users"]]

    mine = _aws(server, tmp_path / "user", key["AccessKeyId"], key["SecretAccessKey"])
    bucket = unique_bucket("cli")
    assert everywhere(server, key) == {""}        # every worker knows the new key
    mine("s3api", "create-bucket", "--bucket", bucket)
    assert mine("s3api", "list-buckets")["Owner"]["ID"] == user["UserId"]
    mine("s3api", "delete-bucket", "--bucket", bucket)

    refused = _aws(server, tmp_path / "user2", key["AccessKeyId"], key["SecretAccessKey"])(
        "iam", "create-user", "--user-name", name + "x", check=False)
    assert refused.returncode != 0 and b"AccessDenied" in refused.stderr
    aws("iam", "delete-access-key", "--user-name", name, "--access-key-id",
        key["AccessKeyId"])
    aws("iam", "delete-user-policy", "--user-name", name, "--policy-name", "s3")
    aws("iam", "delete-user", "--user-name", name)
