"""Client text that looks like the journal's bytes marker survives an index rebuild.

Found by tests/fuzz/test_fuzz_journal.py: `{"$b64": ...}` marks bytes in a journal record, and
replay decoded any dict holding that key, so an object stored with `x-amz-meta-$b64` or a tag
key `$b64` broke the rebuild of the index from the journal."""
import os

from tests.support import ServerProcess


def test_meta_and_tag_key_b64_survive_rebuild_from_journal(tmp_path):
    drives = [str(tmp_path / f"d{i}") for i in range(1, 5)]
    srv = ServerProcess(drives, str(tmp_path), extra_args=["--scrub-rate", "0"]).start()
    try:
        c = srv.client()
        c.create_bucket(Bucket="keys")
        c.put_object(Bucket="keys", Key="k", Body=b"body", Metadata={"$b64": "0"},
                     Tagging="%24b64=x")
    finally:
        srv.stop()
    os.unlink(os.path.join(drives[0], "meta.sqlite3"))     # the index: rebuilt from the journal
    srv = ServerProcess(drives, str(tmp_path), extra_args=["--scrub-rate", "0"]).start()
    try:
        c = srv.client()
        assert c.head_object(Bucket="keys", Key="k")["Metadata"] == {"$b64": "0"}
        assert c.get_object_tagging(Bucket="keys", Key="k")["TagSet"] == [
            {"Key": "$b64", "Value": "x"}]
        assert c.get_object(Bucket="keys", Key="k")["Body"].read() == b"body"
    finally:
        srv.stop()
