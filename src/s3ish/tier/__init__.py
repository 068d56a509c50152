"""The cold tier (issue 12): any S3 service receives the log, checkpoints and object data.

So far only its foundation exists: `config` (where the remote is, `TierConfig`), `remote` (an
asyncio S3 client for it), `errors` (how its failures are classified) and `retry` (retrying
forever with capped, jittered backoff). See docs/tier.md. The tier sits beside meta and storage:
it imports only util, obs and config.
"""
