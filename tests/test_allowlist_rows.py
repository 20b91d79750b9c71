"""Allowlist rows are scoped: claw_ta.allowlist rules and the replay's matching (claw_ta_tools.lookups.Allowlist).

The workload is the attacker: it chooses its pod names, paths, image references
and library files, and may try to get a row written or matched that covers it.
"""
import calendar

import pytest

from claw_ta import allowlist as al
from claw_ta_tools import lookups as lk

D1 = "sha256:" + "a" * 64
D2 = "sha256:" + "b" * 64
END = calendar.timegm((2026, 11, 20, 13, 0, 0))
LIB = "claw_unlisted_library_load"


def _row(**kw):
    row = dict.fromkeys(al.FIELDS, "")
    row.update({"detection_id": LIB, "expires": "2027-06-30"})
    row.update(kw)
    return row


def _suppressed(row, result, detection_id=LIB, end=END):
    return lk.Allowlist([row], end).match(detection_id, result) is not None


def test_schema_is_the_contract_with_the_review_endpoint():
    assert al.FIELDS == ("detection_id", "subject_digest", "library_path", "library_digest", "host", "namespace",
                         "image_ref", "image_digest", "expires", "reason", "created_by", "created_at",
                         "proposal_key")
    assert set(al.ENTITY_FIELDS) < set(al.FIELDS)


def test_entity_fields_per_detection():
    assert al.entity_fields_for(LIB) == ("subject_digest", "library_path", "host", "namespace", "library_digest")
    assert al.entity_fields_for("claw_sensor_silent") == ("host",)
    assert al.entity_fields_for("claw_attestation_spike_outside_tier") == ("image_digest", "host")
    assert al.entity_fields_for("claw_workload_risk") == ()
    with pytest.raises(KeyError):
        al.entity_fields_for("claw_nope")


def test_a_row_without_an_entity_field_is_ignored_and_reported():
    """Before: a row with only detection_id switched the detection off everywhere."""
    row = _row(reason="approved proposal of claw_sensor_silent")
    allow = lk.Allowlist([row], END)
    assert allow.match(LIB, {"library_path": "/tmp/x.so", "host": "n1"}) is None
    assert "names no entity field" in allow.problems[0]


@pytest.mark.parametrize("expires", ["", "next year", "2027-02-30", "2027-01-01 00:00", "27-01-01",
                                     "2027-01-01T00:00:00+02:00", "9999-99-99"])
def test_missing_or_unparseable_expiry_ignores_the_row_and_reports_it(expires):
    """Before: a row with an unparseable expires stayed in force forever."""
    allow = lk.Allowlist([_row(library_path="/tmp/a.so", expires=expires)], END)
    assert allow.match(LIB, {"library_path": "/tmp/a.so"}) is None
    assert "expires" in allow.problems[0]


def test_expiry_day_is_inclusive_and_an_iso_instant_is_exact():
    row = _row(library_path="/tmp/a.so", expires="2026-11-20")
    assert _suppressed(row, {"library_path": "/tmp/a.so"})
    assert not _suppressed(row, {"library_path": "/tmp/a.so"}, end=calendar.timegm((2026, 11, 21, 0, 0, 0)))
    instant = _row(library_path="/tmp/a.so", expires="2026-11-20T13:00:01Z")
    assert _suppressed(instant, {"library_path": "/tmp/a.so"})
    assert not _suppressed(_row(library_path="/tmp/a.so", expires="2026-11-20T13:00:00+00:00"),
                           {"library_path": "/tmp/a.so"})
    assert lk.Allowlist([_row(library_path="/tmp/a.so", expires="2026-11-19")], END).problems == []


def test_a_trojan_at_an_allowlisted_path_with_another_digest_is_not_suppressed():
    row = _row(library_path="/tmp/snappy-*-libsnappyjava.so", library_digest=D1)
    assert _suppressed(row, {"library_path": "/tmp/snappy-1.1-libsnappyjava.so", "library_digest": D1})
    assert _suppressed(row, {"library_path": "/tmp/snappy-1.1-libsnappyjava.so", "library_digest": "sha256:" + "A" * 64})
    assert not _suppressed(row, {"library_path": "/tmp/snappy-1.1-libsnappyjava.so", "library_digest": D2})
    assert not _suppressed(row, {"library_path": "/tmp/snappy-1.1-libsnappyjava.so"})  # digest unknown


@pytest.mark.parametrize("field,value", [("library_digest", "sha256:*"), ("subject_digest", "*"),
                                         ("image_digest", "sha256:" + "a" * 63 + "*"), ("library_digest", "md5:abc")])
def test_a_digest_is_exact_never_a_pattern(field, value):
    allow = lk.Allowlist([_row(library_path="/tmp/a.so", **{field: value})], END)
    assert allow.rows == [] and field in allow.problems[0]


@pytest.mark.parametrize("value", ["*", "/*", "**", "*/*", "-*", '/tmp/"*', "/tmp/a\\b"])
def test_a_pattern_that_names_nothing_or_breaks_the_search_quoting_is_ignored(value):
    allow = lk.Allowlist([_row(library_path=value)], END)
    assert allow.match(LIB, {"library_path": "/tmp/evil.so"}) is None
    assert allow.problems


def test_wildcards_in_the_workloads_own_values_are_literal():
    """A pod named '*' or a library path with '*' in it gets no wildcard power."""
    row = _row(namespace="payments")
    assert not _suppressed(row, {"namespace": "*"})
    assert not _suppressed(_row(library_path="/opt/agent/libapm.so"), {"library_path": "/opt/agent/*"})
    assert not _suppressed(_row(host="node-1"), {"host": "node-*"}, detection_id="claw_sensor_silent")
    assert _suppressed(_row(host="node-1", detection_id="claw_sensor_silent"), {"host": "NODE-1"},
                       detection_id="claw_sensor_silent")


def test_every_set_field_must_match_a_value_the_result_has():
    row = _row(library_path="/tmp/snappy-*.so", image_ref="registry.example.com/data/*")
    assert _suppressed(row, {"library_path": "/tmp/snappy-1.so", "image_ref": "registry.example.com/data/c:1"})
    assert not _suppressed(row, {"library_path": "/tmp/snappy-1.so", "image_ref": "registry.example.com/web/c:1"})
    assert not _suppressed(row, {"library_path": "/tmp/snappy-1.so"})  # no image_ref: cannot match
    assert _suppressed(_row(namespace="dev-*"), {"namespace": ["prod", "dev-b"]})  # multivalue: any value


@pytest.mark.parametrize("detection_id,hit", [("*", True), (LIB, True), ("claw_unlisted_*", True),
                                              ("claw_sensor_silent", False)])
def test_detection_id_star_pattern_and_specific(detection_id, hit):
    row = _row(detection_id=detection_id, library_path="/opt/agent/*")
    assert _suppressed(row, {"library_path": "/opt/agent/libapm.so"}) is hit


@pytest.mark.parametrize("detection_id", ["", "claw_nope", "claw_unlisted_library_load;x", "(?i).*"])
def test_an_empty_unknown_or_malformed_detection_id_is_ignored(detection_id):
    allow = lk.Allowlist([_row(detection_id=detection_id, library_path="/tmp/a.so")], END)
    assert allow.rows == [] and "detection_id" in allow.problems[0]


def test_validate_row_for_the_review_endpoint():
    row = _row(library_path="/tmp/a.so", expires="2026-12-01")
    assert al.validate_row(row) == []
    assert al.validate_row(row, now=END) == []
    assert "over" in al.validate_row(_row(library_path="/tmp/a.so", expires="2026-11-19"), now=END)[0]
    assert "days ahead" in al.validate_row(_row(library_path="/tmp/a.so", expires="2027-12-31"),
                                           now=END, max_days=90)[0]
    assert al.validate_row(_row(library_path="/tmp/a.so", expires="2027-02-01"), now=END, max_days=90) == []
    # values copied from a proposal (the workload's own strings) may not carry wildcards
    assert "wildcards" in al.validate_row(_row(library_path="/tmp/*.so"), wildcards=False)[0]
    assert al.is_active(row, END) and not al.is_active(row, calendar.timegm((2026, 12, 2, 0, 0, 0)))


def test_case_insensitive_like_the_search_clause():
    assert _suppressed(_row(namespace="Payments"), {"namespace": "payments"})


def test_replay_a_trojan_written_over_an_allowlisted_path_still_alerts(tmp_path):
    """End to end: the writable-path detection groups by library_digest, so the pin holds."""
    from claw_ta_tools.detections import engine
    from tests.replay_support import D_LIB, lib, make_scenario
    trojan = "sha256:" + "e" * 64
    events = [lib("12:01:00", "/tmp/libvendor-1.so"), lib("12:02:00", "/tmp/libvendor-1.so", library_digest=trojan)]
    header = ",".join(al.FIELDS) + "\n"

    def alerts(*rows):
        table = header + "".join(",".join(r.get(f, "") for f in al.FIELDS) + "\n" for r in rows)
        path = make_scenario(tmp_path, "s%d" % len(list(tmp_path.iterdir())), events,
                             lookups={"claw_allowlist.csv": table})
        result = engine.replay(path)
        return [(a["detection_id"], a.get("library_digest")) for a in result.alerts], result.warnings

    pinned = {"detection_id": "claw_library_from_writable_path", "library_path": "/tmp/libvendor-*.so",
              "library_digest": D_LIB, "expires": "2027-06-30"}
    assert alerts(pinned)[0] == [("claw_library_from_writable_path", trojan)]
    unpinned = dict(pinned, library_digest="")
    assert alerts(unpinned)[0] == []  # the control: without the pin both are covered
    entity_less = {"detection_id": "claw_library_from_writable_path", "expires": "2027-06-30"}
    fired, warnings = alerts(entity_less)
    assert len(fired) == 1 and any("names no entity field" in w for w in warnings)  # throttled: one per entity
