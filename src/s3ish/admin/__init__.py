"""The operator API under /_admin/ (drives, heal status, scrub) and its access rule."""
