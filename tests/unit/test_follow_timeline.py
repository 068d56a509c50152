"""bg/tierfollow.py's rules: when a follower may go on with a manifest (its timeline holds
every record applied here; a takeover that keeps them is followed) and which segments it
applies next."""
import pytest

from s3ish.bg.tierfollow import Diverged, timeline, to_apply
from s3ish.tier.layout import GenerationEntry, Manifest, SegmentEntry, segment_key

G1 = GenerationEntry(1, 1, 100.0)


def _seg(gen, first, last):
    return SegmentEntry(gen, first, last, segment_key(gen, first, last), 10 * (last - first + 1),
                        float(first), float(last))


def _manifest(generation, hwm, segments, generations=(G1,)):
    return Manifest(generation, "w", hwm, tuple(segments), (), tuple(generations))


STATE = {"tier": "t", "generation": 1, "timeline": {"gen": 1, "from_lsn": 1, "time": 100.0}}


def test_the_same_generation_goes_on():
    m = _manifest(1, 20, [_seg(1, 1, 10), _seg(1, 11, 20)])
    assert timeline(m, STATE, 10) is None
    assert [s.first for s in to_apply(m, 10)] == [11]
    assert to_apply(m, 20) == []
    # A segment straddling the position is applied from inside (records up to it passed).
    assert [s.first for s in to_apply(m, 5)] == [1, 11]


def test_a_takeover_that_keeps_what_was_applied_is_followed():
    g2 = GenerationEntry(2, 16, 200.0)
    m = _manifest(2, 30, [_seg(1, 1, 10), _seg(1, 11, 15), _seg(2, 16, 30)], (G1, g2))
    assert timeline(m, STATE, 15) == {"gen": 2, "from_lsn": 16, "time": 200.0}
    assert timeline(m, STATE, 10) == {"gen": 2, "from_lsn": 16, "time": 200.0}
    assert [s.first for s in to_apply(m, 15)] == [16]


@pytest.mark.parametrize("applied,manifest,words", [
    (16, _manifest(2, 30, [_seg(1, 1, 15), _seg(2, 16, 30)], (G1, GenerationEntry(2, 16, 2.0))),
     "does not hold them"),
    (10, _manifest(3, 30, [_seg(1, 1, 8), _seg(3, 9, 30)],
                   (G1, GenerationEntry(2, 20, 2.0), GenerationEntry(3, 9, 3.0))),
     "generation 3 took the tier over from record 9"),
    (10, _manifest(1, 5, [_seg(1, 1, 5)], (GenerationEntry(1, 1, 999.0),)), "recreated"),
    (10, _manifest(1, 5, [_seg(1, 1, 5)]), "high-water mark 5 is behind"),
    (10, _manifest(2, 30, [_seg(1, 1, 10), _seg(2, 11, 30)]), "no generations entry"),
])
def test_a_timeline_without_what_was_applied_stops_following(applied, manifest, words):
    with pytest.raises(Diverged, match=words) as stopped:
        timeline(manifest, STATE, applied)
    assert "fresh bootstrap" in str(stopped.value)


def test_an_older_generation_or_a_lost_record_stops_following():
    with pytest.raises(Diverged, match="tier was replaced"):
        timeline(_manifest(1, 20, [_seg(1, 1, 20)]), {**STATE, "generation": 2}, 10)
    m = _manifest(1, 30, [_seg(1, 15, 30)])
    with pytest.raises(Diverged, match=r"no segment with records 11\.\.14"):
        to_apply(m, 10)
