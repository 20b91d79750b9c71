"""The baseline and host-tier lookups, incremental training arithmetic, argument checks."""
import csv
import os

import pytest

from claw_ta import LOOKUPS_DIR, tiers
from claw_ta.tiers.baseline import DigestBaseline, HostEntry

DAY = 86400.0
T0 = 1795000000.0
D1 = "sha256:" + "1" * 64


def ev(host, t, tier=None, digest=D1):
    event = {"event_type": "image_attestation", "image_digest": digest, "dest": host, "_time": t}
    if tier:
        event["tier"] = tier
    return event


def test_baseline_csv_round_trip_with_hostile_names(tmp_path):
    hostile = ["node|1", "n;2", "n,3", "n%4", "nöde-5", 'n"6\n']
    events = [ev(h, T0 + i, tier="t|;,%" + str(i)) for i, h in enumerate(hostile)]
    rows = tiers.train_from_events(events, now=T0 + 10, trusted_namespaces="*")
    path = str(tmp_path / "claw_tier_baseline.csv")
    tiers.write_baseline_csv(path, rows)
    with open(path, newline="", encoding="utf-8") as handle:
        assert next(csv.reader(handle)) == list(tiers.BASELINE_FIELDS)
    again = tiers.read_baseline_csv(path)
    assert again == rows
    parsed = tiers.parse_baseline(again)[D1]
    assert sorted(parsed.hosts) == sorted(h.strip().lower() for h in hostile)
    assert parsed.hosts["node|1"].tiers == ("t|;,%0",)


def test_tier_lookups_are_not_shipped_and_missing_ones_are_empty(tmp_path):
    """Created on first use (train search, site): a missing file is an empty table."""
    for name in (tiers.BASELINE_LOOKUP, tiers.HOST_TIERS_LOOKUP):
        assert not os.path.exists(os.path.join(LOOKUPS_DIR, name))
    assert tiers.read_baseline_csv(str(tmp_path / tiers.BASELINE_LOOKUP)) == []
    assert tiers.load_host_tiers(str(tmp_path / tiers.HOST_TIERS_LOOKUP)) == {}


def test_load_host_tiers(tmp_path):
    path = tmp_path / "claw_host_tiers.csv"
    path.write_text("host,tier\nFE-1,frontend\nfe-1,edge\n,backend\nbe-1,\nbe-2, backend \n", encoding="utf-8")
    report = {}
    assert tiers.load_host_tiers(str(path), report) == {"fe-1": {"frontend", "edge"}, "be-2": {"backend"}}
    assert report == {"bad_host_tier_row": 2}
    assert tiers.load_host_tiers(str(tmp_path / "absent.csv")) == {}


def test_bad_baseline_rows_are_skipped_and_counted():
    good = tiers.train_from_events([ev("n1", T0)], now=T0)
    bad = [{"image_digest": "", "hosts": ""}, {"image_digest": "sha256:x", "hosts": "a|b"},
           {"image_digest": "sha256:y", "hosts": "a|t|x|1|2"}, {"image_digest": "sha256:z", "updated": "soon"}]
    report = {}
    parsed = tiers.parse_baseline(bad + good, report)
    assert list(parsed) == [D1] and report == {"bad_baseline_row": 4}
    results = tiers.detect_from_events([ev("n1", T0 + 60)], bad + good)
    assert results[0]["tier_status"] == tiers.IN_TIER


def test_decay_and_merge_arithmetic():
    first = tiers.train_from_events([ev("n1", T0 + i) for i in range(10)], now=T0 + 3600)
    entry = tiers.parse_baseline(first)[D1].hosts["n1"]
    assert (entry.count, entry.hours) == (10, 1)
    # one half-life later, 10 more events: 10 * 0.5 + 10
    later = T0 + 3600 + 7 * DAY
    second = tiers.train_from_events([ev("n1", later - 60 + i) for i in range(10)], first, now=later)
    entry = tiers.parse_baseline(second)[D1].hosts["n1"]
    assert entry.count == pytest.approx(15.0) and entry.hours == pytest.approx(1.5)
    assert second[0]["first_seen"] == str(int(T0)) and second[0]["updated"] == str(int(later))
    # merge=false (no baseline passed) starts afresh
    assert tiers.train_from_events([ev("n1", later)], None, now=later)[0]["event_count"] == "1"


def test_ttl_drops_old_hosts_and_empty_digests():
    rows = tiers.train_from_events([ev("old", T0), ev("kept", T0, digest="sha256:k")], now=T0)
    rows = tiers.train_from_events([ev("kept", T0 + 10 * DAY, digest="sha256:k")], rows, now=T0 + 10 * DAY,
                                   host_ttl_days=5)
    assert [r["image_digest"] for r in rows] == ["sha256:k"]


def test_max_hosts_keeps_the_busiest():
    events = [ev("n%d" % i, T0 + j) for i in range(6) for j in range(i + 1)]
    report = {}
    rows = tiers.train_from_events(events, now=T0 + 60, max_hosts=3, report=report)
    assert sorted(tiers.parse_baseline(rows)[D1].hosts) == ["n3", "n4", "n5"]
    assert report["hosts_capped"] == 1


def test_rate_statistics_are_robust_to_an_outlier_host():
    row = DigestBaseline(D1, {"a": HostEntry(["x"], 10, 1, T0), "b": HostEntry(["x"], 12, 1, T0),
                              "c": HostEntry(["x"], 11, 1, T0), "d": HostEntry(["x"], 5000, 1, T0)})
    assert row.rate_stats() == (11.5, 1.0)
    assert tiers.model.spike_score(count=40, expected=0, mad=1.0, hours=1) == pytest.approx(40 / 1.4826)
    assert tiers.model.spike_score(count=3, expected=0, mad=0.0, hours=1) == 3.0


@pytest.mark.parametrize("params, message", [
    ({"min_count": "0"}, "min_count must be >= 1"),
    ({"min_count": "2.5"}, "min_count must be an integer"),
    ({"min_score": "inf"}, "min_score must be a finite number"),
    ({"min_score": "-1"}, "min_score must be >= 0"),
    ({"half_life_days": "abc"}, "half_life_days must be a number"),
    ({"unknown_tier_anomaly": "maybe"}, "unknown_tier_anomaly must be true or false"),
    ({"tier_field": "a b"}, "tier_field must be a field name"),
    ({"bogus": 1}, "unknown argument bogus"),
])
def test_bad_arguments_name_the_argument(params, message):
    with pytest.raises(ValueError) as info:
        tiers.check_params(params)
    assert message in str(info.value)
    with pytest.raises(ValueError):
        tiers.detect_from_events([], [], **params)


def test_argument_defaults_and_conversion():
    params = tiers.check_params({"min_count": "7", "unknown_tier_anomaly": "t", "max_hosts": 3.0})
    assert params["min_count"] == 7 and params["unknown_tier_anomaly"] is True and params["max_hosts"] == 3
    assert params["min_score"] == 3.0 and params["tier_field"] == "tier"


@pytest.mark.parametrize("name", ["../etc/passwd.csv", "/abs/x.csv", "sub/x.csv", "x.txt", "", ".hidden.csv",
                                  "a\\b.csv", "c:x.csv", "x\0.csv"])
def test_hostile_lookup_names_are_refused(name):
    with pytest.raises(ValueError) as info:
        tiers.lookup_path(name, "baseline_lookup")
    assert "baseline_lookup" in str(info.value)


def test_lookup_names_resolve_in_the_apps_lookups_folder():
    assert tiers.lookup_path("claw_tier_baseline.csv", "x") == os.path.join(LOOKUPS_DIR, "claw_tier_baseline.csv")


def test_the_baseline_lookup_is_an_input_nan_inf_junk_and_duplicates():
    """Regression: such rows made mode=train raise (fmt_number(nan)) or a digest new_digest silently."""
    good = tiers.train_from_events([ev("n1", T0), ev("n2", T0 + 5)], now=T0 + 10)
    row = good[0]
    damaged = [
        dict(row, hosts=row["hosts"].replace("|1|1|", "|nan|1|", 1)),   # one bad host entry: the row stays
        dict(row, image_digest="sha256:inf", hosts="n9||inf|1|%d" % T0),  # no good host entry left
        dict(row, image_digest="sha256:neg", hosts="n9||-3|1|%d" % T0),
        dict(row, image_digest="sha256:late", hosts="n9||1|1|9e99"),
        dict(row, hosts="evil|t|1|1|%d" % T0),                             # a later duplicate: skipped
        {"image_digest": "  ", "hosts": "x"}, {"hosts": "n1||1|1|1"}, {"image_digest": D1, "first_seen": "nan"},
    ]
    report = {}
    parsed = tiers.parse_baseline(damaged, report)
    assert list(parsed) == [D1] and sorted(parsed[D1].hosts) == ["n2"]
    assert report == {"bad_baseline_host": 1, "bad_baseline_row": 5, "duplicate_baseline_row": 2}
    # training over it does not raise, keeps the digest, and its output reads back clean
    report = {}
    again = tiers.train_from_events([ev("n3", T0 + 60)], damaged, now=T0 + 120, report=report)
    assert [r["image_digest"] for r in again] == [D1] and report["duplicate_baseline_row"] == 2
    clean = {}
    assert list(tiers.parse_baseline(again, clean)) == [D1] and clean == {}
    assert tiers.detect_from_events([ev("n2", T0 + 200)], damaged)[0]["tier_status"] == tiers.IN_TIER


def test_training_reads_back_its_own_extreme_output(tmp_path):
    events = [ev("n%d" % i, T0 + i * 3599 * 500) for i in range(3)] + [ev("n0", T0)] * 5000
    rows = tiers.train_from_events(events, now=T0 + 3 * 3599 * 500, half_life_days=0.01)
    path = str(tmp_path / "b.csv")
    for day in range(1, 4):
        tiers.write_baseline_csv(path, rows)
        report = {}
        rows = tiers.train_from_events([ev("n0", T0 + day * DAY)], tiers.read_baseline_csv(path, report),
                                       now=T0 + day * DAY, half_life_days=0.01, host_ttl_days=1000, report=report)
        assert report == {} and rows
