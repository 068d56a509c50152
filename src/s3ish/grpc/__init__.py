"""The gRPC front end (docs/grpc.md): service.py serves proto/s3ish/v1 on the engine;
client.py and signing.py are a client that imports nothing of the server."""
