"""Fuzz the multipart/form-data reader of browser POST uploads (http/formdata.py) and its
Content-Type boundary parser.

Each example builds a valid form (fields, then the file part, then maybe more fields) with a
random boundary, damages it (cut or doubled boundaries, missing CRLFs, huge part headers,
quoted names with escapes, odd unicode) and streams it in network pieces.
Invariant: the fields and the file's bytes, or FormError; the reader never buffers more than
its documented caps (part headers, fields budget) plus one network piece.
"""
from hypothesis import strategies as st

from s3ish.http import formdata
from tests.fuzz.harness import fuzz, mutate_bytes, mutate_text, received, run, split, stream, watch_buffers

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
