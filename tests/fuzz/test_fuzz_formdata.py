"""Fuzz browser POST uploads: the multipart/form-data reader (http/formdata.py), its
Content-Type boundary parser, and the signed POST policy (s3/auth/post_policy.py).

Each example builds a valid form (fields, then the file part, then maybe more fields) with a
random boundary, damages it (cut or doubled boundaries, missing CRLFs, huge part headers,
quoted names with escapes, odd unicode) and streams it in network pieces.
Invariant: the fields and the file's bytes, or FormError; the reader never buffers more than
its documented caps (part headers, fields budget) plus one network piece. Policies are JSON
documents damaged before signing (so the damage reaches the policy parser): an identity and
conditions, or an S3Error.
"""
import base64
import datetime as _dt
import json

from hypothesis import strategies as st

from s3ish.http import formdata
from s3ish.s3 import errors
from s3ish.s3.auth import post_policy, sigv2, sigv4
from s3ish.s3.auth.credentials import Identity, Users
from tests.fuzz.harness import (frozen_now, fuzz, mutate_bytes, mutate_text, received, run,
                                split, stream, watch_buffers)

MAX_PIECE = 8192
_boundary = st.text(st.sampled_from("abcXYZ0123456789-_'()+,./:=?"), min_size=1, max_size=40)
_names = st.sampled_from(["key", "policy", "x-amz-signature", "acl", "success_action_status",
                          "Content-Type", "x-amz-meta-a", "a\"b", ""]) | st.text(max_size=8)
_TOKENS = [b"\r\n", b"\r\n\r\n", b"--", b'Content-Disposition: form-data; name="file"',
           b'; filename="a\\"b"', b"Content-Type: ", b'name=', b'"', b"\\", b";",
           b"x" * 9000, b"\xff", "\u00e9".encode()]


def _form(boundary: str, fields: list, file: bytes | None, after: list) -> bytes:
    out = []
    for name, value in fields:
        out.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                   .encode() + value.encode() + b"\r\n")
    if file is not None:
        out.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                   f'filename="f.bin"\r\nContent-Type: image/png\r\n\r\n'.encode()
                   + file + b"\r\n")
    for name, value in after:
        out.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                   .encode() + value.encode() + b"\r\n")
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out)


async def _read(pieces, boundary: bytes):
    fields, file = await formdata.FormReader(stream(pieces), boundary).read_until_file()
    content = None
    if file is not None:
        content = b"".join([piece async for piece in file[2]])
    return fields, file, content


@fuzz(st.data())
def test_form_data_reader(data):
    boundary = data.draw(_boundary)
    fields = data.draw(st.lists(st.tuples(_names, st.text(max_size=30)), max_size=4))
    file = data.draw(st.none() | st.binary(max_size=4000))
    after = data.draw(st.lists(st.tuples(_names, st.text(max_size=10)), max_size=2))
    body = _form(boundary, fields, file, after)
    damaged = mutate_bytes(data, body, _TOKENS + [b"--" + boundary.encode()])
    ctype = received(mutate_text(data, f"multipart/form-data; boundary={boundary}",
                        [";", "=", '"', " ", "boundary=", "BOUNDARY="]))
    parsed = formdata.boundary_of(ctype)
    if parsed is None:
        return
    cap = max(formdata.MAX_FIELDS_BYTES, formdata.MAX_PART_HEADERS) + MAX_PIECE + len(parsed) + 4
    with watch_buffers(cap):
        try:
            got, part, content = run(_read(split(data, damaged, MAX_PIECE), parsed))
        except formdata.FormError:
            assert damaged != body or parsed != boundary.encode() or any(
                '"' in n or "\\" in n or not n for n, _ in fields), "a valid form was refused"
            return
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in got.items())
    if damaged == body and parsed == boundary.encode() and not any(
            '"' in n or "\\" in n or not n or n.lower() == "file" for n, _ in fields):
        assert (part is None) == (file is None)
        if file is not None:
            assert content == file


# ---- the signed POST policy the form carries (s3/auth/post_policy.py) ----

AK, SECRET, REGION = "AKIDFUZZ", "fuzz-secret", "us-east-1"
USERS = Users([Identity(AK, SECRET, "fuzz")])
NOW = _dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=_dt.timezone.utc)     # see harness.frozen_now
_POLICY_TOKENS = [b'["content-length-range", 1e999, 2]', b'["content-length-range", 0, -1]',
                  b'["starts-with", "$key", ""]', b'{"bucket": "b"}', b'["eq", "$acl", 5]',
                  b"[" * 3000, b"{" * 3000, b"null", b"1e999", b"9" * 5000, b'"expiration"',
                  b'"2100-01-01T00:00:00Z"', b'"conditions"', b",", b":", b"]", b"}", b'"']


def _policy(data) -> tuple[bytes, dict]:
    fields = {"key": data.draw(st.sampled_from(["k", "dir/${filename}", ""])),
              "acl": "private", "x-amz-meta-a": data.draw(st.text(max_size=8))}
    conditions = [{"bucket": "b"}, ["starts-with", "$key", ""], {"acl": "private"},
                  ["eq", "$x-amz-meta-a", fields["x-amz-meta-a"]],
                  ["content-length-range", 0, data.draw(st.integers(0, 2 ** 40))]]
    return json.dumps({"expiration": "2100-01-01T00:00:00.000Z",
                       "conditions": conditions}).encode(), fields


@fuzz(st.data())
def test_post_policy(data):
    doc, fields = _policy(data)
    damaged = mutate_bytes(data, doc, _POLICY_TOKENS)
    policy_b64 = base64.b64encode(damaged).decode()
    date = "20260102"
    form = {**fields, "policy": policy_b64}
    if data.draw(st.booleans()):
        form.update({"x-amz-algorithm": sigv4.ALGORITHM, "x-amz-date": date + "T000000Z",
                     "x-amz-credential": f"{AK}/{sigv4.scope(date, REGION)}",
                     "x-amz-signature": sigv4.sign(sigv4.signing_key(SECRET, date, REGION),
                                                   policy_b64)})
    else:
        form.update({"awsaccesskeyid": AK, "signature": sigv2.sign(SECRET, policy_b64)})
    name = data.draw(st.sampled_from(sorted(form)))
    if data.draw(st.booleans()):
        form[name] = mutate_text(data, form[name], ["=", "/", "+", "AWS4-HMAC-SHA256"])
    # Form values reach the policy as FormReader decodes them: UTF-8 with replacement.
    form = {k: v.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
            for k, v in form.items()}
    try:
        with frozen_now(post_policy, NOW):
            ident, conditions = post_policy.authenticate_post(form, USERS)
        length_range = post_policy.check_conditions(conditions, form, "b")
    except errors.S3Error:
        return
    assert ident.access_key == AK
    assert length_range is None or all(type(n) is int for n in length_range)
