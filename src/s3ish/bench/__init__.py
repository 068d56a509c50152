"""`s3ish bench`: a client-side load generator for any S3 endpoint, in the spirit of MinIO's warp.

It imports nothing of the server but `s3ish.util`: a client must not lean on server internals.
It signs with `util.sigv4_client` and talks over `util.httpclient` (shared with the cold tier's
client). Modules: `client` (the few S3 calls a benchmark needs), `stats` (latencies, table, JSON),
`workloads` (put, get, mixed, list, multipart, delete), `runner` (set-up, run, clean-up, CPU
accounting) and `cli` (the `bench` subcommand).
"""
