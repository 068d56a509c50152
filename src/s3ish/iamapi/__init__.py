"""iamapi: the AWS IAM Query API on the S3 port (POST / with `Action=...`, SigV4 service
`iam`), so `aws iam --endpoint-url ...` and boto3's IAM client manage s3ish's users, access
keys and identity policies. Only root, or a user whose identity policies allow `iam:<Action>`,
may call it. The engine (engine/iam.py) does the work; this package speaks the protocol.
"""
