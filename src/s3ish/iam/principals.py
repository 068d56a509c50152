"""IAM names of s3ish's principals: the account, user and policy ARNs.

s3ish is one account. Its id is empty, as Ceph RGW's users without a tenant have it, so ARNs
read `arn:aws:iam:::user/<path><name>` and policies written for RGW (and its s3-tests) match.
"""
ACCOUNT = ""


def user_arn(name: str, path: str = "/") -> str:
    return f"arn:aws:iam::{ACCOUNT}:user{path}{name}"


def root_arn() -> str:
    return f"arn:aws:iam::{ACCOUNT}:root"


def policy_arn(name: str, path: str = "/") -> str:
    return f"arn:aws:iam::{ACCOUNT}:policy{path}{name}"


def policy_name_of(arn: str) -> str | None:
    """The name in a customer managed policy's ARN (its path dropped); None if not one."""
    prefix = f"arn:aws:iam::{ACCOUNT}:policy/"
    if not arn.startswith(prefix) or arn.endswith("/"):
        return None
    return arn.rsplit("/", 1)[1]


def group_arn(name: str, path: str = "/") -> str:
    return f"arn:aws:iam::{ACCOUNT}:group{path}{name}"
