"""The per-(digest, host) pre-aggregation (the Python twin of the stats in `claw_tier_aggregate`)."""
import random

import pytest

from claw_ta import tiers
from claw_ta.tiers.aggregate import MAX_MASK_HOURS, Aggregator, aggregate_events

T0 = 1795000000.0  # 2026-11-18
D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64


def ev(digest, host, t, tier=None, event_type="image_attestation", **extra):
    event = {"event_type": event_type, "image_digest": digest, "dest": host, "_time": t}
    if tier is not None:
        event["tier"] = tier
    event.update(extra)
    return event


def random_events(n, seed=7):
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        out.append(ev("sha256:%064x" % rng.randrange(12), "node-%d" % rng.randrange(9),
                      T0 + rng.uniform(-3 * 86400, 3 * 86400),
                      tier=rng.choice(["frontend", "backend", None]),
                      event_type=rng.choice(["image_attestation", "binary_attestation"])))
        if rng.random() < 0.1:  # a sensor heartbeat with the node's labels
            out.append({"event_type": "agent_heartbeat", "dest": "node-%d" % rng.randrange(9),
                        "_time": T0 + rng.uniform(-3 * 86400, 3 * 86400),
                        "k8s_node_labels": {"tier": rng.choice(["frontend", "backend", "data"])}})
    return out


def test_counts_first_last_hours_and_labels():
    rows = aggregate_events([ev(D1, "n1", T0 + 10, "backend"), ev(D1, "n1", T0 + 3700, "backend"),
                             ev(D1, "n1", T0 + 20, "canary"), ev(D2, "n1", T0 + 5)])
    assert rows == [
        {"image_digest": D1, "host": "n1", "count": 3, "first_time": T0 + 10, "last_time": T0 + 3700,
         "hours": 2, "tier": ["backend", "canary"]},
        {"image_digest": D2, "host": "n1", "count": 1, "first_time": T0 + 5, "last_time": T0 + 5, "hours": 1},
    ]


def test_digest_and_host_choice():
    events = [
        {"event_type": "image_attestation", "subject_digest": D1, "host": "h1", "_time": T0},  # subject for images
        {"event_type": "binary_attestation", "subject_digest": D2, "dest": "h1", "_time": T0},  # host binary
        {"event_type": "binary_attestation", "image_digest": D2, "subject_digest": D1, "dest": "d2",
         "host": "ignored", "_time": T0},
        {"event_type": "library_load", "image_digest": D1, "dest": "h1", "_time": T0},
    ]
    report = {}
    rows = aggregate_events(events, report=report)
    assert [(r["image_digest"], r["host"]) for r in rows] == [(D1, "h1"), (D2, "d2")]
    assert report == {"no_image_digest": 1, "other_event_type": 1}


def test_bad_input_is_counted_and_loses_nothing_else():
    good = [ev(D1, "n1", T0 + i) for i in range(5)]
    bad = [
        {"_raw": "{not json", "parse_error": "Expecting value", "source": "x"},
        {"image_digest": D1, "dest": "n1", "_time": T0},                    # no event_type
        ev(D1, None, T0), ev(D1, "n1", "yesterday"), ev(D1, "n1", float("nan")),
        ev(D1, "n1", 1e300), ev("sha256:" + "f" * 5000, "n1", T0), ev(D1, "n" * 300, T0),
        "not a dict", None,
        {"image_digest": D1, "host": "n1", "count": "many", "first_time": T0, "last_time": T0},
        {"image_digest": D1, "host": "n1", "count": 3, "first_time": T0 + 9, "last_time": T0},
    ]
    mixed = bad[:6] + good[:2] + bad[6:] + good[2:]
    agg = Aggregator().add_all(mixed)
    assert list(agg.pairs) == [(D1, "n1")] and agg.pairs[(D1, "n1")].count == 5
    assert agg.report == {"malformed": 10, "oversized_field": 2}
    long_label = ev(D1, "n1", T0, tier="t" * 1000)
    agg = Aggregator().add_all([long_label])
    assert agg.pairs[(D1, "n1")].count == 1 and agg.pairs[(D1, "n1")].tiers is None
    assert agg.report == {"tier_label_ignored": 1}


def test_multivalue_and_string_fields_as_splunk_sends_them():
    agg = Aggregator().add_all([
        {"event_type": ["image_attestation"], "image_digest": D1, "dest": "n1", "_time": str(T0),
         "tier": ["a", "b"]},
        {"image_digest": D1, "host": "n1", "count": "4", "first_time": str(T0 - 3600),
         "last_time": str(T0 + 60), "hours": "2", "tier": "a\nc"},
    ])
    state = agg.pairs[(D1, "n1")]
    assert (state.count, state.first, state.last, state.hours) == (5, T0 - 3600, T0 + 60, 2)
    assert state.tiers == {"a", "b", "c"}


@pytest.mark.parametrize("parts", [2, 3, 7])
def test_partitions_combine_to_exactly_the_single_partition_result(parts):
    events = random_events(3000)
    single = aggregate_events(events)
    rng = random.Random(parts)
    buckets = [[] for _ in range(parts)]
    for event in events:
        buckets[rng.randrange(parts)].append(event)
    combined = Aggregator()
    for bucket in buckets:
        combined.merge(Aggregator().add_all(bucket))
    assert combined.rows() + combined.node_rows() == single
    assert combined.nodes  # the node labels combine too
    # and the tier logic downstream sees the same thing
    baseline = tiers.train_from_events(events[:1500], now=T0 + 4 * 86400)
    assert tiers.detect(combined.pairs, baseline, node_tiers=combined.nodes) == \
        tiers.detect_from_events(events, baseline)


def test_order_does_not_matter():
    events = random_events(2000, seed=3)
    shuffled = list(events)
    random.Random(1).shuffle(shuffled)
    assert aggregate_events(shuffled) == aggregate_events(events)
    assert aggregate_events(reversed(events)) == aggregate_events(events)


def test_aggregating_aggregated_rows_is_the_identity():
    rows = aggregate_events(random_events(1000, seed=5))
    assert aggregate_events(rows) == rows


def test_hours_survive_wild_clocks_without_unbounded_memory():
    times = [T0, T0 + 3600, T0 - 10 * 365 * 86400, T0 + 3600 * (MAX_MASK_HOURS + 5), T0 - 3600]
    agg = Aggregator().add_all(ev(D1, "n1", t) for t in times)
    state = agg.pairs[(D1, "n1")]
    assert state.hours == 5 and state.hour_set is not None
    # merging a wide state into a narrow one (and back) keeps the distinct hours exact
    narrow = Aggregator().add_all([ev(D1, "n1", T0), ev(D1, "n1", T0 + 7200)])
    assert narrow.merge(agg).pairs[(D1, "n1")].hours == 6
    out_of_order = Aggregator().add_all(ev(D1, "n1", T0 - 3600 * h) for h in (0, 5, 2, 9, 5))
    assert out_of_order.pairs[(D1, "n1")].hours == 4 and out_of_order.pairs[(D1, "n1")].hour_set is None


def test_tier_field_is_configurable():
    rows = aggregate_events([ev(D1, "n1", T0, app_tier="db")], tier_field="app_tier")
    assert rows[0]["app_tier"] == ["db"] and "tier" not in rows[0]


def test_namespaces_are_carried_for_the_alerts_environment_lookup():
    events = [ev(D1, "n1", T0, namespace="payments"), ev(D1, "n1", T0 + 1, namespace="payments-canary"),
              ev(D1, "n1", T0 + 2)] + [ev(D1, "n1", T0 + 3 + i, namespace="ns-%03d" % i) for i in range(80)]
    rows = aggregate_events(events[:3])
    assert rows[0]["namespace"] == ["payments", "payments-canary"]
    capped = aggregate_events(events)[0]["namespace"]
    assert len(capped) == 50 and capped[:2] == ["ns-000", "ns-001"]  # bounded per pair
    result = tiers.detect_from_events(events[:3], [])
    assert result[0]["namespace"] == ["payments", "payments-canary"]


# --- The command's record path (claw_ta.tiers.stream) -----------------------------------

def test_the_fast_csv_path_aggregates_what_the_dict_path_does():
    from claw_ta.tiers import stream
    from claw_ta_tools.emulators import scp_driver
    rows = aggregate_events(random_events(2000, seed=9))
    rows += [{"image_digest": D1, "host": "multi", "count": 3, "first_time": T0, "last_time": T0 + 1, "hours": 1,
              "tier": ["a", "b$"], "namespace": ["x", "y"]},
             {"image_digest": ["sha256:m1", "sha256:m2"], "host": "mv-digest", "count": 1, "first_time": T0,
              "last_time": T0, "hours": 1},                                                  # the slow path
             {"image_digest": D1, "host": "bad", "count": "nan", "first_time": T0, "last_time": T0, "hours": 1},
             {"image_digest": D1, "host": "bad", "count": 2, "first_time": T0 + 9, "last_time": T0, "hours": 1},
             {"image_digest": "sha256:" + "f" * 300, "host": "big", "count": 1, "first_time": T0, "last_time": T0,
              "hours": ""}]
    fast = Aggregator()
    stream.ingest(scp_driver.records_to_csv(rows).decode(), fast)
    slow = Aggregator().add_all(scp_driver.csv_to_records(scp_driver.records_to_csv(rows)))
    assert fast.rows() == slow.rows() and fast.report == slow.report == {"malformed": 2, "oversized_field": 1}
    multi = [r for r in fast.rows() if r["host"] == "multi"][0]
    assert multi["tier"] == ["a", "b$"] and multi["namespace"] == ["x", "y"]
    # the same rows as raw events (no count column) take the dict path
    events = random_events(300, seed=3)
    raw = Aggregator()
    stream.ingest(scp_driver.records_to_csv(events).decode(), raw)
    assert raw.rows() == aggregate_events(scp_driver.csv_to_records(scp_driver.records_to_csv(events)))


def test_output_spills_to_the_system_temp_folder_when_the_dispatch_folder_is_missing(tmp_path, monkeypatch):
    import csv
    import io
    import tempfile
    from claw_ta.tiers import stream
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no-such-dispatch-folder"))
    monkeypatch.setattr(stream.CsvOut, "MEMORY_LIMIT", 1000)
    out = stream.CsvOut(["a", "b"], multi=("b",))
    for i in range(500):
        out.write([i, ["x", "y,$"] if i % 2 else ["only"]])
    length, body = out.body()
    data = body.read()
    assert len(data) == length and body.name is not None  # a real file, not the missing folder
    rows = list(csv.reader(io.StringIO(data.decode(), newline="")))
    assert rows[0] == ["a", "b", "__mv_b"] and len(rows) == 501  # a twin only where a multivalue can be
    assert rows[1] == ["0", "only", ""] and rows[2] == ["1", "x\ny,$", "$x$;$y,$$$"]
