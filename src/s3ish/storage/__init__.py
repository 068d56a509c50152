"""Data plane: where object bytes live, addressed by data id, never by key."""
