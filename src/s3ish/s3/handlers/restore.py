"""RestoreObject (`POST /{key}?restore`): a temporary local copy of a version whose data a
lifecycle transition moved to the cold tier (engine/tiering.py; docs/tier.md, "Transitions").

The request is S3's RestoreRequest with Days (required), and optionally a retrieval Tier
(Standard, Bulk, Expedited: all the same here, the copy is fetched as fast as the tier
answers) and a Description. The first request answers 202 Accepted and the copy is fetched in
the background (`x-amz-restore: ongoing-request="true"` meanwhile); a request while it is
kept answers 200 and keeps it Days from now; one while the copy is still being fetched is
409 RestoreAlreadyInProgress; a version not in the tier's storage class is 403
InvalidObjectState, as AWS answers for objects that are not archived. S3 Select restores
(Type SELECT, SelectParameters, OutputLocation) are not implemented (501).
"""
from ...engine import tiering
from ...http.asgi import Response
from .. import errors
from ..xml import shapes
from .common import read_xml
from .versioning import version_arg, version_header

MAX_RESTORE_XML = 64 * 1024
TIERS = ("Standard", "Bulk", "Expedited")


async def RestoreObject(ctx) -> Response:
    version_id = version_arg(ctx.req)
    doc = await read_xml(ctx.req, shapes.RestoreRequest, limit=MAX_RESTORE_XML)
    if doc.Type is not None or doc.SelectParameters is not None or \
            doc.OutputLocation is not None:
        raise errors.NotImplemented("S3 Select restores are not implemented.")
    tiers = [doc.Tier] + ([doc.GlacierJobParameters.Tier] if doc.GlacierJobParameters
                          else [])
    if doc.Days is None or any(t is not None and t not in TIERS for t in tiers) or \
            (doc.GlacierJobParameters is not None and doc.GlacierJobParameters.Tier is None):
        raise errors.MalformedXML()
    v, began = await tiering.restore_object(ctx.svc.engine, ctx.bucket, ctx.key, version_id,
                                            doc.Days)
    return Response(202 if began else 200, version_header(ctx.bucket_record, v.version_id))
