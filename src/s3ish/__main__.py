"""`python -m s3ish`."""
from .cli import main

main()
