"""ACL documents through the generic codec (the Grantee's `xsi:type` attribute and namespace
declaration, as AWS writes and botocore parses them) and the owner a listing shows."""
from types import SimpleNamespace

from botocore.model import ServiceModel
from botocore.parsers import RestXMLParser
import botocore.session

from s3ish.engine import acl
from s3ish.meta.records import Bucket
from s3ish.s3.auth.credentials import Users
from s3ish.s3.handlers.common import object_owner_of
from s3ish.s3.xml import acl_shapes as shapes
from s3ish.s3.xml import codec

XSI = "http://www.w3.org/2001/XMLSchema-instance"


def _policy():
    grants = [
        shapes.Grant(shapes.Grantee(ID="a" * 64, DisplayName="A & B", Type="CanonicalUser"),
                     "READ"),
        shapes.Grant(shapes.Grantee(URI="http://acs.amazonaws.com/groups/global/AllUsers",
                                    Type="Group"), "WRITE")]
    return shapes.AccessControlPolicy(shapes.AclOwner("o" * 64, "Owner"),
                                      shapes.AccessControlList(grants))


def test_grantee_type_is_an_xsi_attribute_both_ways():
    body = codec.encode(_policy())
    assert (f'<Grantee xmlns:xsi="{XSI}" xsi:type="CanonicalUser"><ID>{"a" * 64}</ID>'
            "<DisplayName>A &amp; B</DisplayName></Grantee>").encode() in body
    assert codec.decode(body, shapes.AccessControlPolicy) == _policy()
    # A document whose Grantee has no type decodes with Type None (the handler refuses it).
    doc = codec.decode(b"<AccessControlPolicy><AccessControlList><Grant><Grantee><ID>x</ID>"
                       b"</Grantee><Permission>READ</Permission></Grant></AccessControlList>"
                       b"</AccessControlPolicy>", shapes.AccessControlPolicy)
    assert doc.AccessControlList.Grant[0].Grantee == shapes.Grantee(ID="x")


def test_botocore_parses_our_policy():
    model = ServiceModel(botocore.session.get_session().get_service_data("s3"))
    out = RestXMLParser().parse({"body": codec.encode(_policy()), "headers": {},
                                 "status_code": 200},
                                model.operation_model("GetObjectAcl").output_shape)
    assert out["Grants"][0]["Grantee"] == {"Type": "CanonicalUser", "ID": "a" * 64,
                                           "DisplayName": "A & B"}
    assert out["Grants"][1]["Grantee"]["Type"] == "Group"


def test_listings_show_the_bucket_owner_under_bucket_owner_enforced():
    owner, writer = "o" * 64, "w" * 64
    ctx = SimpleNamespace(svc=SimpleNamespace(users=Users([])), bucket_record=None)
    assert object_owner_of(ctx, writer).ID == writer        # no record at hand: as stored
    for ownership, shown in [(acl.ENFORCED, owner), (acl.PREFERRED, writer), ("", writer)]:
        ctx.bucket_record = Bucket("b", owner, 0.0, ownership=ownership)
        assert object_owner_of(ctx, writer).ID == shown
