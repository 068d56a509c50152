"""`s3ish restore`: a server's folders rebuilt from the cold tier (issue 12, docs/tier.md).

plan     the remote manifest, the target position, the checkpoint and segments to use
index    the index: checkpoint, then the segments' records replayed up to the target
units    the data units the index references, fetched into the store under their ids
local    the folders restored into, and the state left for the next server start
cli      the command line (argparse only)
command  running it: progress, the steps, the summary
"""
