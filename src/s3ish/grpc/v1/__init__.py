"""The generated stubs of proto/s3ish/v1 (`make proto` regenerates them; never edit)."""
