"""s3ish: an S3-compatible object store."""
