"""S3 XML: dataclass shapes named as in the S3 API model, and one generic codec."""
