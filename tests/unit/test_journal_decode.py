"""Regression tests for meta/journal.py's record codec, from inputs the fuzzer found
(tests/fuzz/test_fuzz_journal.py)."""
import zlib

from s3ish.meta import journal, records as r


def _version(**kw):
    return r.ObjectVersion(bucket="b", key="k", size=0, etag="", mtime=0.0, owner="", **kw)


def _crc_line(body: bytes) -> bytes:
    return body + b"\t" + f"{zlib.crc32(body):08x}".encode() + b"\n"


def test_metadata_keys_named_like_the_bytes_marker_round_trip():
    # x-amz-meta-$b64 and a tag key "$b64" are client text: replay once raised binascii.Error
    # ('0'), ValueError ('\x80') or turned the dict into bytes ('').
    ms = [r.PutObject(_version(user_meta={"$b64": "0"}, headers={"$b64": "\x80"})),
          r.CompleteUpload("u", _version(tags={"$b64": ""})),
          r.SetObjectTags("b", "k", {"$b64": "hello"}),
          r.PutObject(_version(inline=b"\x00\xff"))]
    assert journal.decode_record(journal.encode_record(3, ms)) == (3, ms)


def test_undecodable_record_with_a_good_crc_is_corrupt_not_an_exception():
    for body in (b'{"lsn":1,"m":[["DeleteObject",{"bucket":"__proto__","key',   # cut JSON
                 b'{"lsn":1,"m":[["Nope",{}]]}',                               # unknown type
                 b'{"m":[]}',                                                 # no lsn
                 b'{"lsn":"7","m":[]}',                                       # lsn not int
                 b'[1,2]',                                                    # not an object
                 b'{"lsn":1,"m":[["AbortUpload",{"nope":1}]]}',               # bad field
                 b'{"lsn":1,"m":[["PutObject",[]]]}',                          # not a dict
                 b'{"lsn":1,"m":[["AbortUpload"]]}',                          # short pair
                 b'{"lsn":1,"m":' + b"[" * 100000 + b"]" * 100000 + b"}",     # deep nesting
                 b'{"lsn":1,"m":[["PutObject",{"version":{"bucket":"b","key":"k","size":0,'
                 b'"etag":"","mtime":0,"owner":"","inline":{"$b64":"!"}}}]]}',  # bad base64
                 b"\xff\xfe"):
        assert journal.decode_record(_crc_line(body)) is None, body[:60]


def test_lines_without_one_integer_position_are_not_base_lines(tmp_path):
    """A CRC-valid line with no position, two, or a non-integer one is damage: base() and
    last_lsn() skip it instead of raising."""
    import json as _json
    import zlib as _zlib
    from s3ish.meta import journal as j

    def line(doc):
        body = _json.dumps(doc).encode()
        return body + b"\t" + f"{_zlib.crc32(body):08x}".encode() + b"\n"
    drive = tmp_path / "d"
    j.prepare(str(drive))
    with open(j.path_on(str(drive)), "wb") as f:
        for doc in ({"x": 1}, {"base": "7"}, {"base": 1, "lsn": 2}, {"base": True}):
            f.write(line(doc))
        f.write(j.encode_base(5))
    assert j.base(j.path_on(str(drive))) == 5
    assert j.last_lsn(str(drive)) == 5
