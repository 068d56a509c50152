"""Fuzz the metadata journal's record decoder (meta/journal.py decode_record).

Valid records are built from random mutation records with the journal's own encoder. Then:
raw byte damage (the CRC must catch it: None), and damage to the JSON body with the CRC
recomputed (what a bug or a format change would write: still None or a record, never an
exception). Unmutated records must decode back to exactly what was encoded.
"""
import json
import zlib

from hypothesis import strategies as st

from s3ish.meta import docs, journal, records
from tests.fuzz.harness import fuzz, mutate_bytes

# Metadata dicts come from clients (x-amz-meta-*, tags, standard headers): any text.
_text = st.text(max_size=12) | st.just("$b64")
_dicts = st.dictionaries(_text, _text, max_size=3)
_num = st.integers(-2, 2 ** 63)
_ts = st.floats(0, 4e9, allow_nan=False)

_part = st.builds(records.DataPart, data_id=_text, size=_num, etag=_text, checksum=_text)
_version = st.builds(
    records.ObjectVersion, bucket=_text, key=_text, size=_num, etag=_text, mtime=_ts,
    owner=_text, version_id=_text, content_type=_text, headers=_dicts, user_meta=_dicts,
    storage_class=_text, checksum_algorithm=_text, checksum_value=_text, checksum_type=_text,
    inline=st.none() | st.binary(max_size=64), parts=st.lists(_part, max_size=3), tags=_dicts)
_condition = st.none() | st.builds(records.Condition, if_match=st.none() | _text,
                                   if_none_match=st.booleans())
_upload = st.builds(records.Upload, upload_id=_text, bucket=_text, key=_text, initiated=_ts,
                    owner=_text, content_type=_text, headers=_dicts, user_meta=_dicts,
                    storage_class=_text, checksum_algorithm=_text, checksum_type=_text,
                    tags=_dicts)
MUTATIONS = st.one_of(
    st.builds(records.CreateBucket, st.builds(records.Bucket, _text, _text, _ts, _text)),
    st.builds(records.DeleteBucket, _text, _text),
    st.builds(records.PutObject, _version, _condition),
    st.builds(records.DeleteObject, _text, _text),
    st.builds(records.CreateUpload, _upload),
    st.builds(records.PutPart, st.builds(records.Part, _text, _num, _text, _num, _text, _ts,
                                         _text)),
    st.builds(records.CompleteUpload, _text, _version, _condition),
    st.builds(records.AbortUpload, _text),
    st.builds(records.SetObjectTags, _text, _text, _dicts),
)
# (lsn, mutations, commit time): the time is drawn too, so a line never depends on the clock.
RECORD = st.tuples(st.integers(0, 2 ** 63), st.lists(MUTATIONS, max_size=3), _ts)
_KINDS = tuple(journal._TYPES.values())
_JSON_TOKENS = [b'"', b"{", b"}", b"[", b"]", b",", b":", b"null", b"true", b"1e999",
                b'{"$b64":"!!"}', b'"$b64"', b'"lsn"', b'"m"', b'"PutObject"', b'"Nope"',
                b"[" * 2000, b"-", b"\\u0000", b"\\ud800"]


def _with_crc(body: bytes) -> bytes:
    return body + b"\t" + f"{zlib.crc32(body):08x}".encode() + b"\n"


def _check(line: bytes):
    out = journal.decode_record(line)
    if out is not None:
        lsn, mutations = out
        assert type(lsn) is int
        assert all(isinstance(m, _KINDS) for m in mutations)
    return out


@fuzz(RECORD)
def test_journal_roundtrip(record):
    lsn, mutations, when = record
    line = journal.encode_record(lsn, mutations, when)
    assert journal.decode_record(line) == (lsn, mutations)
    assert journal.decode_entry(line) == (lsn, when, mutations)


@fuzz(st.tuples(RECORD, st.data()))
def test_journal_raw_damage(arg):
    (lsn, mutations, when), data = arg
    line = journal.encode_record(lsn, mutations, when)
    damaged = mutate_bytes(data, line, [b"\t", b"\n", b"00000000"])
    out = _check(damaged)
    if damaged == line:
        assert out == (lsn, mutations)


@fuzz(st.tuples(RECORD, st.data()))
def test_journal_body_damage_valid_crc(arg):
    (lsn, mutations, when), data = arg
    body = json.dumps({"lsn": lsn, "t": when, "m": [[type(m).__name__, docs.to_doc(m)]
                                         for m in mutations]}, separators=(",", ":")).encode()
    _check(_with_crc(mutate_bytes(data, body, _JSON_TOKENS)))
