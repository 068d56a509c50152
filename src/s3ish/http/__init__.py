"""HTTP adapter: the ASGI request and response with streaming bodies. Knows nothing of S3."""
