#!/usr/bin/env python3
"""Container health check: exit 0 if s3ish's /_ready answers 200, else 1 (Docker's
HEALTHCHECK contract). The URL is $S3ISH_HEALTH_URL (default http://127.0.0.1:9000/_ready);
for an https:// URL the certificate is not checked: it is the container's own server, asked
on loopback, and its certificate names the public host."""
import os
import ssl
import sys
import urllib.error
import urllib.request


def main() -> int:
    url = os.environ.get("S3ISH_HEALTH_URL", "http://127.0.0.1:9000/_ready")
    ctx = ssl._create_unverified_context() if url.startswith("https:") else None
    try:
        with urllib.request.urlopen(url, timeout=4, context=ctx) as r:
            print(r.read(200).decode(errors="replace").strip())
            return 0 if r.status == 200 else 1
    except urllib.error.HTTPError as e:        # 503: not ready, and why
        print(e.read(200).decode(errors="replace").strip())
    except (OSError, ValueError) as e:
        print(f"{url}: {e}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
