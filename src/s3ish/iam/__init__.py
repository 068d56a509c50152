"""iam: identities, keys, policies, ACLs: the one authorize decision (no HTTP).

So far the policy language: parse and compile a policy document (policy.py, conditions.py,
patterns.py), evaluate compiled policies for a request, and the S3 operation -> IAM action and
resource table (arn.py). Imports nothing of the server but util.
"""
