"""S3 operation handlers; each function is named after the AWS operation it implements."""
