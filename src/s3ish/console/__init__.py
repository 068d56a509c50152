"""The web console: static HTML/JS/CSS served at /_console/ (assets.py). Everything it does
the browser does itself, signing S3, IAM and admin requests with SigV4 in JavaScript
(static/js/sigv4.js); the server adds no endpoint and no power for it (docs/console.md)."""
