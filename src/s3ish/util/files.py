"""Small file-system helpers shared by the data and metadata layers."""
import os


def fsync_dir(path: str) -> None:
    """Make the entries of folder `path` (a rename, a new file) durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
