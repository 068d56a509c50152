"""Identifiers: time-ordered data ids, request ids, upload ids."""
import base64
import os
import time


def data_id() -> str:
    """A unique, time-ordered id for one data unit: 48-bit ms clock + 80 random bits, hex."""
    ms = int(time.time() * 1000) & ((1 << 48) - 1)
    return f"{ms:012x}{os.urandom(10).hex()}"


def request_id() -> str:
    return os.urandom(8).hex().upper()


def host_id() -> str:
    return base64.b64encode(os.urandom(24)).decode()


def upload_id() -> str:
    """Opaque multipart upload id; time-ordered so listings of uploads sort by initiation."""
    return base64.urlsafe_b64encode(bytes.fromhex(data_id()) + os.urandom(8)).decode().rstrip("=")


def version_id() -> str:
    return data_id()
