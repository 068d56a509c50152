"""The S3 REST protocol layer: routing, authentication, handlers, XML, error rendering."""
