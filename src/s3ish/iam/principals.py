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
    """A managed policy's ARN; names starting "aws:" are AWS managed policies."""
    if name.startswith("aws:"):
        return f"arn:aws:iam::aws:policy{path}{name[4:]}"
    return f"arn:aws:iam::{ACCOUNT}:policy{path}{name}"


def policy_name_of(arn: str) -> str | None:
    """The name in a managed policy's ARN (its path dropped; "aws:<name>" for an AWS managed
    policy); None if it is no policy ARN."""
    for account, prefix in ((ACCOUNT, ""), ("aws", "aws:")):
        start = f"arn:aws:iam::{account}:policy/"
        if arn.startswith(start) and not arn.endswith("/"):
            return prefix + arn.rsplit("/", 1)[1]
    return None


def policy_display_name(name: str) -> str:
    return name.removeprefix("aws:")


def group_arn(name: str, path: str = "/") -> str:
    return f"arn:aws:iam::{ACCOUNT}:group{path}{name}"
