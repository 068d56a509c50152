"""Authentication: SigV4 (header, presigned, streaming), SigV2, the seed's header pair,
credentials, body verification."""
