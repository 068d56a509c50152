"""Default bucket encryption: PutBucketEncryption, GetBucketEncryption, DeleteBucketEncryption.

A bucket's default encryption is what new objects written without encryption headers get:
SSE-S3 (AES256) or SSE-KMS (aws:kms, with a KMSMasterKeyID or the KMS's default key), with
BucketKeyEnabled recorded and echoed (s3ish's KMS is local: there are no per-request KMS calls
for a bucket key to save). Objects already stored keep their encryption. The configuration
reads back as it was written (the key id as the client named it).
"""
from ...engine import sse
from ...http.asgi import Response
from ...meta.bucketconf import EncryptionConfig
from .. import errors
from ..xml import sse_shapes as shapes
from .common import read_xml, xml

MAX_ENCRYPTION_XML = 16 * 1024


async def PutBucketEncryption(ctx) -> Response:
    # The model marks the operation checksum-required: Content-MD5 or an x-amz-checksum-*.
    doc = await read_xml(ctx.req, shapes.ServerSideEncryptionConfiguration,
                         limit=MAX_ENCRYPTION_XML, required_digest=True)
    await ctx.svc.engine.set_bucket_encryption(ctx.bucket, config_of(doc))
    return Response(200)


def config_of(doc: shapes.ServerSideEncryptionConfiguration) -> EncryptionConfig:
    """The one rule of a configuration, checked as AWS checks it."""
    if len(doc.Rule) != 1:
        raise errors.MalformedXML()
    rule = doc.Rule[0]
    if rule.BlockedEncryptionTypes is not None and rule.BlockedEncryptionTypes.EncryptionType:
        raise errors.NotImplemented("Blocking encryption types is not supported.")
    default = rule.ApplyServerSideEncryptionByDefault
    if default is None or default.SSEAlgorithm is None:
        raise errors.MalformedXML()
    algorithm = default.SSEAlgorithm
    if algorithm == "aws:kms:dsse":
        raise errors.NotImplemented("Dual-layer server-side encryption (aws:kms:dsse) is not "
                                    "supported.")
    if algorithm not in (sse.SSE_S3, sse.SSE_KMS):
        raise errors.MalformedXML()
    key_id = default.KMSMasterKeyID
    if key_id is not None and algorithm != sse.SSE_KMS:
        raise errors.InvalidArgument("a KMSMasterKeyID is not applicable if the default sse "
                                     "algorithm is not aws:kms or aws:kms:dsse",
                                     ArgumentName="ApplyServerSideEncryptionByDefault")
    return EncryptionConfig(algorithm, key_id or "", bool(rule.BucketKeyEnabled))


async def GetBucketEncryption(ctx) -> Response:
    config = (await ctx.svc.engine.get_bucket(ctx.bucket)).encryption
    if config is None:
        raise errors.ServerSideEncryptionConfigurationNotFoundError(BucketName=ctx.bucket)
    return xml(shapes.ServerSideEncryptionConfiguration([shapes.ServerSideEncryptionRule(
        shapes.ServerSideEncryptionByDefault(config.algorithm, config.kms_key_id or None),
        config.bucket_key)]))


async def DeleteBucketEncryption(ctx) -> Response:
    await ctx.svc.engine.set_bucket_encryption(ctx.bucket, None)
    return Response(204)
