"""| clawtierbaseline through the real protocol (tests/scp_driver.py), Python 3.9 and 3.13.

Each test runs the command from a throwaway copy of the app (script copied,
claw_ta and splunklib linked) so that its lookups/ folder can hold test data:
the command reads its lookups relative to its own location, as in Splunk.
"""
import os
import random
import shutil

import pytest

from claw_ta import tiers
from tests import paths, scp_driver

DAY, HOUR = 86400.0, 3600.0
T0 = 1794528000.0
WEB, API = "sha256:" + "a" * 64, "sha256:" + "b" * 64


def ev(digest, host, t, tier=None, event_type="binary_attestation"):
    event = {"event_type": event_type, "image_digest": digest, "dest": host, "_time": t}
    if tier:
        event["tier"] = tier
    return event


def history(seed=1, days=2):
    rng = random.Random(seed)
    out = []
    for hour in range(days * 24):
        for digest, prefix, tier in ((WEB, "fe", "frontend"), (API, "be", "backend")):
            for node in range(1, 4):
                for _ in range(rng.randint(2, 6)):
                    out.append(ev(digest, "%s-%d" % (prefix, node), T0 + hour * HOUR + rng.uniform(0, HOUR), tier))
    return out


def window():
    start = T0 + 2 * DAY
    out = [ev(WEB, "fe-1", start + 10)]  # first record: tier label absent
    out += [ev(WEB, "fe-%d" % n, start + 100 * i, "frontend") for n in (1, 2, 3) for i in range(5)]
    out += [ev(API, "fe-2", start + 30 * i, "backend") for i in range(25)]  # the burst
    out += [ev("sha256:" + "c" * 64, "be-1", start + i, "backend") for i in range(9)]  # a rollout
    return out


@pytest.fixture
def app(tmp_path):
    root = tmp_path / "TA-claw-runtime"
    (root / "bin").mkdir(parents=True)
    (root / "lookups").mkdir()
    shutil.copy(os.path.join(paths.APP_BIN, "clawtierbaseline.py"), str(root / "bin"))
    for name in ("claw_ta", "splunklib"):
        os.symlink(os.path.join(paths.APP_BIN, name), str(root / "bin" / name))
    (root / "default").symlink_to(paths.APP_DEFAULT)
    return root


def run(app, args, records, python, parts=3):
    size = max(1, len(records) // parts + 1)
    chunks = [records[i:i + size] for i in range(0, len(records), size)] + [[]]
    return scp_driver.run(str(app / "bin" / "clawtierbaseline.py"), args, chunks, python=python)


def canonical(value):
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value] if len(value) > 1 else canonical(value[0])
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def same(records):
    return [{k: canonical(v) for k, v in r.items() if v not in (None, "", [])} for r in records]


def test_train_then_detect_match_the_python_api(app, splunk_python):
    hist = history()
    rows = tiers.aggregate_events(hist)
    now = T0 + 2 * DAY
    trained = run(app, ["mode=train", "now=%d" % now], rows, splunk_python)
    assert trained.returncode == 0, trained.stderr
    assert trained.getinfo["type"] == "reporting"
    expected = tiers.train_from_events(hist, now=now)
    assert same(trained.records) == same(expected)
    # only the last (finished) chunk carries output: reduce() is called per chunk
    assert [len(recs) for _, recs in trained.chunks[:-1]] == [0] * (len(trained.chunks) - 1)

    tiers.write_baseline_csv(str(app / "lookups" / "claw_tier_baseline.csv"), expected)
    win = window()
    detected = run(app, ["mode=detect"], tiers.aggregate_events(win), splunk_python)
    assert detected.returncode == 0, detected.stderr
    python_side = tiers.detect_from_events(win, expected)
    assert same(detected.records) == same(python_side)
    assert list(detected.records[0]) == [f for f in tiers.DETECT_FIELDS if detected.records[0].get(f)]
    flagged = [(r["image_digest"], r["host"]) for r in detected.records if r["is_anomaly"] == "1"]
    assert flagged == [(API, "fe-2")]
    statuses = {r["host"]: r["tier_status"] for r in detected.records if r["image_digest"] != WEB}
    assert statuses == {"fe-2": "outside_tier", "be-1": "new_digest"}
    # raw events give the same answer as the stats rows (the command aggregates them itself)
    raw = run(app, ["mode=detect"], win, splunk_python, parts=5)
    assert same(raw.records) == same(detected.records)


def test_training_merges_into_the_lookup_it_reads(app, splunk_python):
    first = tiers.train_from_events(history(days=1), now=T0 + DAY)
    tiers.write_baseline_csv(str(app / "lookups" / "claw_tier_baseline.csv"), first)
    day2 = [e for e in history(seed=2, days=2) if e["_time"] >= T0 + DAY]
    merged = run(app, ["mode=train", "now=%d" % (T0 + 2 * DAY)], tiers.aggregate_events(day2), splunk_python)
    assert same(merged.records) == same(tiers.train_from_events(day2, first, now=T0 + 2 * DAY))
    fresh = run(app, ["mode=train", "merge=false", "now=%d" % (T0 + 2 * DAY)],
                tiers.aggregate_events(day2), splunk_python)
    assert same(fresh.records) == same(tiers.train_from_events(day2, None, now=T0 + 2 * DAY))
    assert same(fresh.records) != same(merged.records)


def test_bad_records_are_reported_and_lose_nothing(app, splunk_python):
    win = window()
    bad = [{"event_type": "image_attestation", "_time": "not a time", "dest": "x", "image_digest": API},
           {"event_type": "mystery_event", "_time": T0},
           {"_raw": "{oops", "parse_error": "bad json"},
           {"event_type": "image_attestation", "image_digest": "sha256:" + "e" * 9000, "dest": "x", "_time": T0}]
    result = run(app, ["mode=detect"], bad[:2] + win + bad[2:], splunk_python)
    assert result.returncode == 0, result.stderr
    assert same(result.records) == same(tiers.detect_from_events(win, []))
    warnings = " ".join(text for level, text in result.messages if level == "WARN")
    assert "malformed=2" in warnings and "other_event_type=1" in warnings and "oversized_field=1" in warnings
    assert "no baseline" in warnings


@pytest.mark.parametrize("args, named", [
    (["mode=guess"], "mode"),
    ([], "mode"),
    (["mode=detect", "min_count=zero"], "min_count"),
    (["mode=detect", "min_score=-2"], "min_score"),
    (["mode=detect", "min_score=nan"], "min_score"),
    (["mode=train", "max_hosts=0"], "max_hosts"),
    (["mode=detect", "tier_field=bad field"], "tier_field"),
    (["mode=detect", "baseline_lookup=../../etc/passwd"], "baseline_lookup"),
    (["mode=detect", "host_tiers_lookup=/tmp/x.csv"], "host_tiers_lookup"),
    (["mode=detect", "colour=blue"], "colour"),
])
def test_bad_arguments_give_an_error_naming_them(app, splunk_python, args, named):
    result = run(app, args, window(), splunk_python)
    errors = result.errors()
    assert errors and any(named in text for text in errors), (errors, result.stderr)
    assert result.records == []


def test_host_tier_lookup_is_read_from_the_apps_lookups_folder(app, splunk_python):
    baseline = tiers.train_from_events(history(), now=T0 + 2 * DAY)
    tiers.write_baseline_csv(str(app / "lookups" / "claw_tier_baseline.csv"), baseline)
    (app / "lookups" / "claw_host_tiers.csv").write_text("host,tier\nFE-2,backend\n", encoding="utf-8")
    result = run(app, ["mode=detect"], tiers.aggregate_events(window()), splunk_python)
    hit = [r for r in result.records if (r["image_digest"], r["host"]) == (API, "fe-2")][0]
    assert hit["tier_status"] == "in_tier" and hit["tier_source"] == "lookup" and hit["is_anomaly"] == "0"
