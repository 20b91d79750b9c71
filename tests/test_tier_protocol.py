"""| clawtierbaseline through the real protocol (tools/claw_ta_tools/emulators/scp_driver.py), Python 3.9 and 3.13.

Each test runs the command from a throwaway copy of the app (script copied,
claw_ta and splunklib linked) so that its lookups/ folder can hold test data:
the command reads its lookups relative to its own location, as in Splunk.
"""
import os
import random
import shutil

import pytest

from claw_ta import tiers
from claw_ta_tools.emulators import scp_driver
from tests import paths

DAY, HOUR = 86400.0, 3600.0
T0 = 1794528000.0
WEB, API = "sha256:" + "a" * 64, "sha256:" + "b" * 64


TRUST = {"trusted_namespaces": "shop"}  # the site trusts the pod labels of its namespace "shop"


def ev(digest, host, t, tier=None, event_type="binary_attestation"):
    event = {"event_type": event_type, "image_digest": digest, "dest": host, "_time": t, "namespace": "shop"}
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
def app(tmp_path, built_app):
    root = tmp_path / "TA-claw-runtime"
    (root / "bin").mkdir(parents=True)
    (root / "lookups").mkdir()
    shutil.copy(os.path.join(built_app, "bin", "clawtierbaseline.py"), str(root / "bin"))
    for name in ("claw_ta", "sdk"):
        os.symlink(os.path.join(built_app, "bin", name), str(root / "bin" / name))
    (root / "default").symlink_to(paths.APP_DEFAULT)
    return root


def run(app, args, records, python, parts=3, **driver):
    size = max(1, len(records) // parts + 1)
    chunks = [records[i:i + size] for i in range(0, len(records), size)] + [[]]
    return scp_driver.run(str(app / "bin" / "clawtierbaseline.py"), list(args) + ["trusted_namespaces=shop"],
                          chunks, python=python, **driver)


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
    expected = tiers.train_from_events(hist, now=now, **TRUST)
    assert same(trained.records) == same(expected)
    # only the last (finished) chunk carries output: reduce() is called per chunk
    assert [len(recs) for _, recs in trained.chunks[:-1]] == [0] * (len(trained.chunks) - 1)

    tiers.write_baseline_csv(str(app / "lookups" / "claw_tier_baseline.csv"), expected)
    win = window()
    detected = run(app, ["mode=detect"], tiers.aggregate_events(win), splunk_python)
    assert detected.returncode == 0, detected.stderr
    python_side = tiers.detect_from_events(win, expected, **TRUST)
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
    first = tiers.train_from_events(history(days=1), now=T0 + DAY, **TRUST)
    tiers.write_baseline_csv(str(app / "lookups" / "claw_tier_baseline.csv"), first)
    day2 = [e for e in history(seed=2, days=2) if e["_time"] >= T0 + DAY]
    merged = run(app, ["mode=train", "now=%d" % (T0 + 2 * DAY)], tiers.aggregate_events(day2), splunk_python)
    assert same(merged.records) == same(tiers.train_from_events(day2, first, now=T0 + 2 * DAY, **TRUST))
    fresh = run(app, ["mode=train", "merge=false", "now=%d" % (T0 + 2 * DAY)],
                tiers.aggregate_events(day2), splunk_python)
    assert same(fresh.records) == same(tiers.train_from_events(day2, None, now=T0 + 2 * DAY, **TRUST))
    assert same(fresh.records) != same(merged.records)


def test_bad_records_are_reported_and_lose_nothing(app, splunk_python):
    win = window()
    bad = [{"event_type": "image_attestation", "_time": "not a time", "dest": "x", "image_digest": API},
           {"event_type": "mystery_event", "_time": T0},
           {"_raw": "{oops", "parse_error": "bad json"},
           {"event_type": "image_attestation", "image_digest": "sha256:" + "e" * 9000, "dest": "x", "_time": T0}]
    result = run(app, ["mode=detect"], bad[:2] + win + bad[2:], splunk_python)
    assert result.returncode == 0, result.stderr
    assert same(result.records) == same(tiers.detect_from_events(win, [], **TRUST))
    warnings = " ".join(text for level, text in result.messages if level == "WARN")
    assert "malformed=2" in warnings and "other_event_type=1" in warnings and "oversized_field=1" in warnings
    assert "does not exist yet" in warnings


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
    (["mode=detect", "node_tier_label=tier,app"], "node_tier_label"),
])
def test_bad_arguments_give_an_error_naming_them(app, splunk_python, args, named):
    result = run(app, args, window(), splunk_python)
    errors = result.errors()
    assert errors and any(named in text for text in errors), (errors, result.stderr)
    assert result.records == []


def test_host_tier_lookup_is_read_from_the_apps_lookups_folder(app, splunk_python):
    baseline = tiers.train_from_events(history(), now=T0 + 2 * DAY, **TRUST)
    tiers.write_baseline_csv(str(app / "lookups" / "claw_tier_baseline.csv"), baseline)
    (app / "lookups" / "claw_host_tiers.csv").write_text("host,tier\nFE-2,backend\n", encoding="utf-8")
    result = run(app, ["mode=detect"], tiers.aggregate_events(window()), splunk_python)
    hit = [r for r in result.records if (r["image_digest"], r["host"]) == (API, "fe-2")][0]
    assert hit["tier_status"] == "in_tier" and hit["tier_source"] == "lookup" and hit["is_anomaly"] == "0"


def test_getinfo_asks_for_no_map_phase(app, splunk_python):
    """Regression: a pass-through streaming_preop (map phase) that does nothing is not requested."""
    probe = scp_driver.run(str(app / "bin" / "clawtierbaseline.py"), ["mode=detect"], None, python=splunk_python)
    assert probe.returncode == 0 and probe.errors() == []
    assert probe.getinfo["type"] == "reporting" and "streaming_preop" not in probe.getinfo
    assert probe.getinfo.get("run_in_preview") is False  # nothing to show before the window is complete
    mapped = scp_driver.run(str(app / "bin" / "clawtierbaseline.py"), ["mode=detect", "phase=map"], None,
                            python=splunk_python)
    scp_driver.assert_error_reported(mapped, "phase=map", "only a reduce phase")


def test_splunkd_dialect_header_only_chunks_preview_and_a_missing_dispatch_folder(app, splunk_python):
    rows = tiers.aggregate_events(history())
    baseline = tiers.train_from_events(history(), now=T0 + 2 * DAY, **TRUST)
    tiers.write_baseline_csv(str(app / "lookups" / "claw_tier_baseline.csv"), baseline)
    win = tiers.aggregate_events(window())
    plain = run(app, ["mode=detect"], win, splunk_python)
    chunks = [win[:10], [], win[10:], []]  # a header-only finished:false chunk mid-stream
    odd = scp_driver.run(str(app / "bin" / "clawtierbaseline.py"), ["mode=detect", "trusted_namespaces=shop"],
                         chunks, python=splunk_python, preview_chunks=(0,), dispatch_exists=False)
    assert odd.returncode == 0 and odd.errors() == []
    assert same(odd.records) == same(plain.records) and len(rows) > 0


def test_a_missing_or_damaged_baseline_is_an_empty_one_with_a_warning(app, splunk_python):
    win = tiers.aggregate_events(window())
    missing = run(app, ["mode=detect"], win, splunk_python)
    warnings = " ".join(t for level, t in missing.messages if level == "WARN")
    assert "claw_tier_baseline.csv does not exist" in warnings and missing.errors() == []
    assert {r["tier_status"] for r in missing.records} == {"new_digest"}
    trained = run(app, ["mode=train", "now=%d" % (T0 + 2 * DAY)], tiers.aggregate_events(history()), splunk_python)
    assert trained.errors() == [] and len(trained.records) == 2
    # damage: a NUL byte, nan/inf counts, a junk line, a later duplicate row for a digest
    good = tiers.baseline_csv_text(trained.records)
    web_row = [line for line in good.splitlines() if line.startswith(WEB)][0]
    nine = web_row.replace(WEB, "sha256:" + "9" * 64)
    damaged = (good.replace("|", "|\0", 1)                                  # a NUL byte
               + nine.replace("|" + nine.split("|")[2] + "|", "|nan|", 1) + "\n"  # a nan count in one host
               + WEB + ",frontend,1,1,1,1,1,1,1,evil|frontend|1|1|1\n"    # later duplicates of digests
               + API + ",backend,1,inf,inf,1,1,1,1,be-9|backend|1|1|1\n"
               + "sha256:x,,1,1,1,1,1,1,1,h|t|inf|1|1\n"                  # an inf count: no good host left
               + "junk,\"unterminated\n")                                 # a line csv cannot finish
    (app / "lookups" / "claw_tier_baseline.csv").write_text(damaged, encoding="utf-8")
    again = run(app, ["mode=train", "now=%d" % (T0 + 3 * DAY)], tiers.aggregate_events(window()), splunk_python)
    assert again.returncode == 0 and again.errors() == [], again.stderr
    warning = " ".join(t for level, t in again.messages if level == "WARN")
    for counted in ("duplicate_baseline_row=2", "bad_baseline_host=1", "bad_baseline_row=2"):
        assert counted in warning, warning
    rows = {r["image_digest"]: r for r in again.records}
    assert set(rows) == {WEB, API, "sha256:" + "9" * 64, "sha256:" + "c" * 64}  # c: the window's rollout
    assert "evil" not in rows[WEB]["hosts"] and "be-9" not in rows[API]["hosts"]  # the first row is kept


@pytest.mark.parametrize("lookup", ["claw_host_tiers.csv", "claw_tier_baseline.csv"])
def test_a_lookup_that_cannot_be_read_is_an_error_splunkd_shows(app, splunk_python, lookup):
    """Every failure reaches splunkd as an inspector ERROR (the driver fails a silent death)."""
    (app / "lookups" / lookup).mkdir()  # a folder where the file should be
    result = run(app, ["mode=detect"], tiers.aggregate_events(window()), splunk_python)
    scp_driver.assert_error_reported(result, "cannot read a lookup", lookup)
    assert result.returncode == 1 and result.records == []


def test_an_unexpected_failure_mid_chunk_reaches_splunkd(app, splunk_python):
    """A failure while a chunk is processed is answered with an ERROR, not a dead pipe."""
    script = app / "bin" / "clawtierbaseline.py"
    text = script.read_text(encoding="utf-8").replace(
        "self._aggregator)\n", "self._aggregator); 1 / 0\n", 1)
    assert "1 / 0" in text
    script.write_text(text, encoding="utf-8")
    result = run(app, ["mode=detect"], tiers.aggregate_events(window()), splunk_python)
    scp_driver.assert_error_reported(result, "ZeroDivisionError")


def test_multivalue_output_survives_every_interpreter(app, splunk_python):
    """A digest of two tiers (baseline_tiers, tier: multivalue) and a pod in two namespaces.

    Python 3.9's csv writer quotes a value holding a newline only when the line
    terminator has one: the multivalue's plain column must still be one cell."""
    shared = "sha256:" + "5" * 64
    hist = history() + [ev(shared, host, T0 + 3600 * h + 60, tier) for h in range(30)
                        for host, tier in (("fe-1", "frontend"), ("be-1", "backend"))]
    baseline = tiers.train_from_events(hist, now=T0 + 2 * DAY, **TRUST)
    tiers.write_baseline_csv(str(app / "lookups" / "claw_tier_baseline.csv"), baseline)
    win = window() + [dict(ev(shared, "fe-3", T0 + 2 * DAY + i, "frontend"), namespace=["shop", "shop-2"])
                      for i in range(7)]
    (app / "lookups" / "claw_host_tiers.csv").write_text("host,tier\nfe-3,frontend\nfe-3,edge\n", encoding="utf-8")
    result = run(app, ["mode=detect"], tiers.aggregate_events(win), splunk_python)
    expected = tiers.detect_from_events(win, baseline, host_tiers={"fe-3": ["frontend", "edge"]}, **TRUST)
    assert same(result.records) == same(expected) and len(result.records) == len(expected)
    row = [r for r in result.records if r["image_digest"] == shared][0]
    assert row["baseline_tiers"] == ["backend", "frontend"] and row["tier"] == ["edge", "frontend"]
    assert row["namespace"] == ["shop", "shop-2"]
