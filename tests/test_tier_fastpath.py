"""The command's fast detect path gives the same output as straightforward code.

Randomized input (hostile hosts and labels: commas, quotes, line breaks, ``$``,
spaces at the ends, NUL, non-ASCII; multivalue labels; bad and partial
baseline rows; a host tier lookup) is scored three ways that must agree:

- ``reference_detect`` below: the detect loop as it was written before the
  speed work (one reason string and one list per row, spike_score());
- ``claw_ta.tiers.iter_detect`` (the replay's and the library's path);
- ``iter_detect_labels`` + ``stream.detect_lines`` (the command's CSV path),
  compared byte for byte with ``CsvOut.write`` over ``iter_detect``, and
  ``stream.ingest`` of a CSV body compared with ``Aggregator.add_record``.
"""
import csv
import io
import random

import pytest

from claw_ta import tiers
from claw_ta.tiers import model, stream
from claw_ta.tiers.baseline import BaselineTable

ODD = ["", " ", ",", '"', "\n", "\r", "$", "\0", "\u00e9", "\u2028", "a,b", ' x ', '$$"', "\r\n"]


def text(rng, prefix):
    out = prefix + str(rng.randint(0, 5))
    if rng.random() < 0.3:
        out += rng.choice(ODD) + rng.choice(ODD)
    return out


def reference_detect(pairs, baseline_rows, host_tiers, min_count, min_score, unknown_tier_anomaly, report,
                     trusted_namespaces):
    """The straightforward detect loop (before the speed work): the reference semantics."""
    table = BaselineTable(baseline_rows, report)
    resolver = model.TierResolver(host_tiers, pairs, table, trusted_namespaces)
    groups = model.by_digest(pairs)

    def as_list(labels):
        return sorted(labels) if labels else None
    for digest in sorted(groups):
        row = table.get(digest) if digest in table else None
        if row is not None:
            mid, mad = row.rate_stats()
            known_tiers = row.tiers
        for host in sorted(groups[digest]):
            state = pairs[(digest, host)]
            count, hours = state.count, state.hours
            tiers_, source = resolver.resolve(host, state)
            expected = score = 0.0
            if row is None:
                status, known_tiers = model.NEW_DIGEST, ()
                why = "no baseline for this digest (a rollout): never an anomaly on its own"
            else:
                entry = row.hosts.get(host.lower())
                if entry is not None:
                    status, expected = model.IN_TIER, entry.rate * hours
                    why = "host ran this digest before (%.3g events/h)" % entry.rate
                elif not tiers_:
                    status = model.UNKNOWN_HOST_TIER
                    why = "host tier unknown (no lookup row, no trusted pod labels, no history)"
                elif set(known_tiers) & set(tiers_):
                    status, expected = model.IN_TIER, mid * hours
                    why = "host tier %s (%s) is a normal tier of this digest" % ("+".join(tiers_), source)
                else:
                    status = model.OUTSIDE_TIER
                    why = "host tier %s (%s) is not a normal tier of this digest (%s)" % (
                        "+".join(tiers_), source, "+".join(known_tiers) or "none")
                score = model.spike_score(count, expected, mad, hours)
            flagged = status == model.OUTSIDE_TIER or (unknown_tier_anomaly and status == model.UNKNOWN_HOST_TIER)
            anomaly = flagged and count >= min_count and score >= min_score
            if flagged and not anomaly:
                why += "; below threshold (count %d vs min_count %d, score %.2f vs min_score %.2f)" % (
                    count, min_count, score, min_score)
            yield (digest, host, as_list(state.namespaces), as_list(tiers_), source, as_list(state.tiers),
                   as_list(known_tiers), status, count, hours, round(expected, 2), round(score, 2),
                   1 if anomaly else 0, state.first, state.last, why)


def random_case(seed):
    rng = random.Random(seed)
    digests = ["sha256:%064x" % rng.getrandbits(256) for _ in range(rng.randint(1, 12))]
    hosts = [text(rng, "Node-") for _ in range(rng.randint(1, 15))]
    rows = []
    for _ in range(rng.randint(1, 120)):
        first = 1794528000 + rng.random() * 86400 * 3
        rows.append({"image_digest": rng.choice(digests), "host": rng.choice(hosts),
                     "count": rng.randint(1, 300), "first_time": "%.3f" % first,
                     "last_time": "%.3f" % (first + rng.random() * 86400), "hours": rng.randint(1, 30),
                     "tier": [text(rng, "tier-") for _ in range(rng.choice((0, 1, 1, 2)))],
                     "namespace": [rng.choice(["shop", "pay", "dev"]) for _ in range(rng.choice((0, 1, 1, 2)))]})
    agg = tiers.Aggregator().add_all(rows)
    host_tiers = {h: text(rng, "tier-") for h in rng.sample(hosts, rng.randint(0, len(hosts)))}
    baseline = tiers.train(agg.pairs, None, tiers.normalize_host_tiers(host_tiers), now=1794528000 + 5 * 86400,
                           trusted_namespaces="shop")
    for row in baseline:  # damage some: bad numbers, unknown rows, dropped digests
        pick = rng.random()
        if pick < 0.1:
            row["hosts"] = row["hosts"].replace("|", "|x", 1)
        elif pick < 0.2:
            row["first_seen"] = "nan"
    baseline = [r for r in baseline if rng.random() < 0.8] + [{"image_digest": "", "hosts": "junk"}]
    params = dict(min_count=rng.choice((1, 5)), min_score=rng.choice((0.0, 3.0)),
                  unknown_tier_anomaly=rng.random() < 0.5, trusted_namespaces=rng.choice(("", "shop", "*")))
    return rows, agg, baseline, tiers.normalize_host_tiers(host_tiers), params


@pytest.mark.parametrize("seed", range(40))
def test_fast_detect_matches_the_reference(seed):
    rows, agg, baseline, host_tiers, params = random_case(seed)
    trusted = tiers.parse_namespaces(params.pop("trusted_namespaces"))
    args = (agg.pairs, baseline, host_tiers, params["min_count"], params["min_score"],
            params["unknown_tier_anomaly"])
    ref_report, report, csv_report = {}, {}, {}
    expected = list(reference_detect(*args, report=ref_report, trusted_namespaces=trusted))
    assert list(tiers.iter_detect(*args, report=report, trusted_namespaces=trusted)) == expected
    assert report == ref_report

    slow = stream.CsvOut(tiers.DETECT_FIELDS, tiers.MULTIVALUE_FIELDS)
    for values in expected:
        slow.write(values)
    fast = stream.CsvOut(tiers.DETECT_FIELDS, tiers.MULTIVALUE_FIELDS)
    fast.write_lines(stream.detect_lines(model.iter_detect_labels(*args, report=csv_report,
                                                                  trusted_namespaces=trusted)))
    assert csv_report == ref_report
    assert fast.rows == slow.rows == len(expected)
    assert fast.body()[1].read() == slow.body()[1].read()


@pytest.mark.parametrize("seed", range(20))
def test_ingest_matches_add_record(seed):
    """The CSV record path aggregates exactly what the dict path does (same pairs, same report)."""
    rows, _agg, _baseline, _host_tiers, _params = random_case(seed)
    mv = {"tier", "namespace"}
    # what splunklib hands the dict path: one value as a string, several as a list
    agg = tiers.Aggregator().add_all(
        [dict(row, **{n: row[n][0] if len(row[n]) == 1 else row[n] or None for n in mv}) for row in rows])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    names = ["image_digest", "host", "count", "first_time", "last_time", "hours", "tier", "namespace"]
    writer.writerow(names + ["__mv_tier", "__mv_namespace"])
    for row in rows:
        cells = [row[n] if n not in mv else "\n".join(row[n]) for n in names]
        twins = [";".join("$%s$" % v.replace("$", "$$") for v in row[n]) if len(row[n]) > 1 else "" for n in
                 ("tier", "namespace")]
        writer.writerow(cells + twins)
    fed = tiers.Aggregator()
    stream.ingest(out.getvalue(), fed)
    assert fed.report == agg.report
    assert fed.rows() == agg.rows()


@pytest.mark.parametrize("seed", range(5))
def test_csv_cell_is_what_csv_writer_writes(seed):
    rng = random.Random(seed)
    for _ in range(2000):
        value = "".join(rng.choice(ODD + ["a", "b", " ", "\t"]) for _ in range(rng.randint(0, 6)))
        out = io.StringIO()
        csv.writer(out, lineterminator="\r\n").writerow(["x", value, "y"])
        assert "x,%s,y\r\n" % stream.csv_cell(value) == out.getvalue(), repr(value)
