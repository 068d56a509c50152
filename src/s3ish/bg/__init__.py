"""Background workers: each is a `step()` loop that a test or an admin command can run once."""
