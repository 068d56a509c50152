"""Object semantics with no HTTP: commit protocol, multipart, listing."""
