"""Fuzz the object lock headers of a write (x-amz-object-lock-mode, -retain-until-date,
-legal-hold): valid values are mutated. Invariant: S3's InvalidArgument, or fields that keep
their promises (a known mode with a finite date, or none; a legal hold ON, OFF or absent),
never another exception."""
import datetime as _dt
import math

from hypothesis import strategies as st

from s3ish.engine.objectlock import MODES
from s3ish.s3 import errors
from s3ish.s3.handlers.lock_headers import LEGAL_HOLD, MODE, UNTIL, lock_fields
from tests.fuzz.harness import fuzz, mutate_text, received

_TOKENS = ["T", "Z", "+00:00", "-23:59", ".", "999999", "9999", "0000", "-", ":", " ",
           "\u0661", "GOVERNANCE", "COMPLIANCE", "ON", "OFF", "\x00"]


@fuzz(st.data())
def test_lock_headers(data):
    when = data.draw(st.datetimes(min_value=_dt.datetime(1, 1, 2),
                                  max_value=_dt.datetime(9999, 12, 30)))
    valid = {MODE: data.draw(st.sampled_from(MODES)),
             UNTIL: when.isoformat() + data.draw(st.sampled_from(["Z", "", "+02:00"])),
             LEGAL_HOLD: data.draw(st.sampled_from(["ON", "OFF"]))}
    names = data.draw(st.lists(st.sampled_from(list(valid)), unique=True, max_size=3))
    headers = {n: received(mutate_text(data, valid[n], _TOKENS)) for n in names}
    try:
        fields = lock_fields(headers)
    except errors.InvalidArgument:
        return
    assert (fields["lock_mode"] in MODES) == (MODE in headers)
    assert math.isfinite(fields["lock_until"])
    assert fields["legal_hold"] in ((True, False) if LEGAL_HOLD in headers else (None,))
