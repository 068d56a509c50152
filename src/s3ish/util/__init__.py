"""Small shared helpers: ids, checksums, clocks, thread pools. Imports nothing of s3ish."""
