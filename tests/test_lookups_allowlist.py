"""claw_ta.lookups: Splunk WILDCARD matching, first-row-wins lookups, allowlist semantics."""
import calendar

from claw_ta import lookups as lk


def test_wildcard_star_matches_any_run_and_the_rest_is_literal():
    assert lk.wildcard_match("dev-*", "dev-frank")
    assert lk.wildcard_match("dev-*", "dev-")
    assert not lk.wildcard_match("dev-*", "prod-dev-x")
    assert lk.wildcard_match("*/staging/*", "registry.example.com/staging/app:1")
    assert lk.wildcard_match("/tmp/a.so", "/tmp/a.so")
    assert not lk.wildcard_match("/tmp/a.so", "/tmp/aXso")  # '.' is literal, not a regex dot
    assert not lk.wildcard_match("/tmp/[ab].so", "/tmp/a.so")
    assert lk.wildcard_match("/tmp/[ab].so", "/tmp/[ab].so")
    assert not lk.wildcard_match("Dev-*", "dev-x")
    assert lk.wildcard_match("Dev-*", "dev-x", case_sensitive=False)
    assert not lk.wildcard_match("*", None)


def test_lookup_first_matching_row_in_file_order_wins(tmp_path):
    path = tmp_path / "env.csv"
    path.write_text("namespace,environment\ndev-*,nonprod\ndev-payments,prod\n*,prod\n")
    table = lk.Lookup(lk.read_csv(str(path)), "namespace")
    assert table.get("dev-payments", "environment") == "nonprod"
    assert table.get("payments", "environment") == "prod"
    assert table.get(None, "environment", "unknown") == "unknown"
    only = lk.Lookup(lk.read_csv(str(path))[:1], "namespace")
    assert only.get("payments", "environment", "unknown") == "unknown"


def test_read_csv_of_a_missing_file_is_empty_and_bom_is_ignored(tmp_path):
    assert lk.read_csv(str(tmp_path / "nope.csv")) == []
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbfhost,tier\nnode-1 , web\n")
    assert lk.read_csv(str(path)) == [{"host": "node-1", "tier": "web"}]


def _row(**kw):
    row = dict.fromkeys(("detection_id", "subject_digest", "library_path", "namespace", "image_ref",
                         "expires", "reason"), "")
    row.update(kw)
    return row


END = calendar.timegm((2026, 11, 20, 13, 0, 0))


def test_allowlist_detection_id_star_empty_and_specific():
    result = {"library_path": "/opt/agent/libapm.so", "namespace": "payments"}
    for detection_id, hit in (("*", True), ("", True), ("claw_unlisted_library_load", True),
                              ("claw_unlisted_*", True), ("claw_sensor_silent", False)):
        allow = lk.Allowlist([_row(detection_id=detection_id, library_path="/opt/agent/*")], END)
        assert (allow.match("claw_unlisted_library_load", result) is not None) is hit, detection_id


def test_allowlist_empty_field_is_any_value_but_a_set_field_must_match_a_present_value():
    allow = lk.Allowlist([_row(detection_id="*", namespace="dev-*")], END)
    assert allow.match("x", {"namespace": "dev-a", "library_path": "/anything"})
    assert not allow.match("x", {"namespace": "prod"})
    assert not allow.match("x", {"library_path": "/tmp/a.so"})  # no namespace: the row cannot match
    assert allow.match("x", {"namespace": ["prod", "dev-b"]})  # multivalue: any value
    everything = lk.Allowlist([_row(detection_id="claw_sensor_silent")], END)
    assert everything.match("claw_sensor_silent", {"host": "n"})
    assert not everything.match("claw_unlisted_library_load", {"host": "n"})


def test_allowlist_all_fields_of_a_row_must_match_together():
    allow = lk.Allowlist([_row(library_path="/tmp/snappy-*.so", image_ref="registry.example.com/data/*")], END)
    assert allow.match("x", {"library_path": "/tmp/snappy-1.so", "image_ref": "registry.example.com/data/c:1"})
    assert not allow.match("x", {"library_path": "/tmp/snappy-1.so", "image_ref": "registry.example.com/web/c:1"})


def test_allowlist_expiry_is_relative_to_the_window_end_and_the_day_is_inclusive():
    rows = [_row(library_path="/tmp/*", expires="2026-11-20")]
    assert lk.Allowlist(rows, END).match("x", {"library_path": "/tmp/a"})  # still 2026-11-20
    next_day = calendar.timegm((2026, 11, 21, 0, 0, 0))
    assert not lk.Allowlist(rows, next_day).match("x", {"library_path": "/tmp/a"})
    past = [_row(library_path="/tmp/*", expires="2026-11-19")]
    assert not lk.Allowlist(past, END).match("x", {"library_path": "/tmp/a"})


def test_allowlist_bad_expiry_keeps_the_row_and_reports_it():
    allow = lk.Allowlist([_row(library_path="/tmp/*", expires="next year")], END)
    assert allow.match("x", {"library_path": "/tmp/a"})
    assert "next year" in allow.problems[0]


def test_allowlist_is_case_insensitive_like_the_search_clause():
    allow = lk.Allowlist([_row(namespace="Payments")], END)
    assert allow.match("x", {"namespace": "payments"})


def test_shipped_allowlist_example_rows_match_nothing_real():
    rows = lk.read_csv(lk.lookup_path("claw_allowlist.csv"))
    assert rows and list(rows[0]) == ["detection_id", "subject_digest", "library_path", "namespace",
                                       "image_ref", "expires", "reason"]
    allow = lk.Allowlist(rows, END)
    assert allow.rows == []  # every example row has expired
