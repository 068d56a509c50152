"""Fuzz the XML codec (s3/xml/codec.py) on the shapes requests carry: CompleteMultipartUpload,
Delete, Tagging, CreateBucketConfiguration.

Documents are built from random shapes with the codec's own encoder, then damaged with XML
structure (repeated, unknown, nested or namespaced elements, DTDs, entities, CDATA, encodings,
huge numbers, odd unicode). Invariant: an instance of the shape or XMLDecodeError (which the
handlers answer as MalformedXML); an undamaged document decodes back to what was encoded.
"""
from hypothesis import strategies as st

from s3ish.s3.xml import codec, shapes
from tests.fuzz.harness import fuzz, mutate_bytes

# Text that survives XML unchanged: no control characters (CR is normalised, most are not
# legal XML), no surrogates or non-characters.
_text = st.text(st.characters(exclude_categories=["Cs", "Cc", "Cn"]), max_size=16)
_opt = st.none() | _text
_checksums = dict(ChecksumCRC32=_opt, ChecksumCRC32C=_opt, ChecksumCRC64NVME=_opt,
                  ChecksumSHA1=_opt, ChecksumSHA256=_opt)
SHAPES = st.one_of(
    st.builds(shapes.CompleteMultipartUpload, st.lists(st.builds(
        shapes.CompletedPart, PartNumber=st.integers(-2, 2 ** 64), ETag=_text, **_checksums),
        max_size=4)),
    st.builds(shapes.Delete, st.lists(st.builds(shapes.ObjectIdentifier, _text, _opt),
                                      max_size=4), st.booleans()),
    st.builds(shapes.Tagging, st.none() | st.builds(shapes.TagSet, st.lists(
        st.builds(shapes.Tag, _text, _text), max_size=4))),
    st.builds(shapes.CreateBucketConfiguration, _opt),
)
_TOKENS = [b"<Part>", b"</Part>", b"<PartNumber>", b"</PartNumber>", b"<Object>", b"<Key>",
           b"</Key>", b"<Quiet>True</Quiet>", b"<TagSet>", b"<Tag><Key>a</Key></Tag>",
           b"<PartNumber>" + b"9" * 5000 + b"</PartNumber>", b"<x:Key xmlns:x='u'>k</x:Key>",
           b'<!DOCTYPE d [<!ENTITY e "xxxxxxxxxx">]>', b"&e;", b"&#0;", b"&#x110000;",
           b"&lt;", b"<![CDATA[<Key>]]>", b'<?xml version="1.0" encoding="UTF-16"?>',
           b"<!-- c -->", b"<?pi x?>", b' xmlns="urn:other"', b"\x00", b"\xff\xfe",
           b"<" * 100, b"<a>" * 200, b"</", b"/>", b">", b"\"", b"'"]


@fuzz(st.tuples(SHAPES, st.data()))
def test_xml_decode(arg):
    shape, data = arg
    cls = type(shape)
    doc = codec.encode(shape)
    damaged = mutate_bytes(data, doc, _TOKENS)
    try:
        out = codec.decode(damaged, cls)
    except codec.XMLDecodeError:
        assert damaged != doc, "a valid document was refused"
        return
    assert isinstance(out, cls)
    if damaged == doc:
        assert out == shape


@fuzz(st.data())
def test_xml_decode_any_root(data):
    """A document for one shape decoded as another: only its own shape may accept it."""
    shape = data.draw(SHAPES)
    target = data.draw(st.sampled_from([shapes.CompleteMultipartUpload, shapes.Delete,
                                        shapes.Tagging, shapes.CreateBucketConfiguration]))
    root = data.draw(st.sampled_from([None, target.__name__]))
    try:
        out = codec.decode(mutate_bytes(data, codec.encode(shape, root), _TOKENS), target)
    except codec.XMLDecodeError:
        return
    assert isinstance(out, target)
