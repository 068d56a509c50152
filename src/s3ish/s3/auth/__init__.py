"""Authentication: SigV4 (header, presigned, streaming), credentials, body verification."""
