"""Bucket tag validation (engine/tags.py): AWS's rules, in AWS's order."""
import pytest

from s3ish.engine.tags import InvalidTag, allowed_text, validate_bucket_tags


def test_valid_set_keeps_document_order():
    pairs = [("b", "1"), ("a", ""), ("ü nï+-=._:/@", "välue 2")]
    assert list(validate_bucket_tags(pairs).items()) == pairs
    assert validate_bucket_tags([]) == {}


@pytest.mark.parametrize("pairs,message,key", [
    ([("", "v")], "The TagKey you have provided is invalid", ""),
    ([("k" * 129, "v")], "The TagKey you have provided is invalid", "k" * 129),
    ([("a&b", "v")], "The TagKey you have provided is invalid", "a&b"),
    ([("k", "v" * 257)], "The TagValue you have provided is invalid", "k"),
    ([("k", "a;b")], "The TagValue you have provided is invalid", "k"),
    ([("aws:x", "v")], "Your TagKey cannot be prefixed with aws:", "aws:x"),
    ([("d", "1"), ("d", "2")], "Cannot provide multiple Tags with the same key", "d"),
    ([(f"k{i}", "v") for i in range(51)], "Bucket tag count cannot be greater than 50", None),
])
def test_invalid(pairs, message, key):
    with pytest.raises(InvalidTag) as e:
        validate_bucket_tags(pairs)
    assert str(e.value) == message and e.value.tag_key == key


def test_tags_are_checked_one_by_one_before_the_count():
    # 60 tags, the 55th with a bad value: the bad value is what AWS reports.
    pairs = [(f"k{i}", "v") for i in range(60)]
    pairs[54] = ("k54", "bad&")
    with pytest.raises(InvalidTag, match="TagValue"):
        validate_bucket_tags(pairs)


def test_allowed_text():
    assert allowed_text("Hello World 123 日本語 _.:/=+-@")
    assert not any(allowed_text(c) for c in "&;,!?#$%*()[]{}<>\"'\\|\t\n")
