"""Benchmark of | clawtierbaseline: 7 days of attestations, 5,000 digests, 2,000 hosts.

Prints, measured in the same run:
1. the Python pre-aggregation (the replay's twin of `stats`) over N events,
   each size in its own process: events/s and peak RSS, to show memory grows
   with distinct (digest, host) pairs, not with events;
2. the command over the aggregated rows through the real protocol
   (tests/scp_driver.py), train and detect, against the splunklib pass-through
   command (tests/support/passthrough.py) over the same rows: rows/s and ratio;
3. the size of the baseline lookup for that fleet (target: < 50 MB).

    .venv/bin/python benchmarks/bench_tierbaseline.py            # 1M and 2M events (~2 min)
    .venv/bin/python benchmarks/bench_tierbaseline.py --full     # 1M and 10M events
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, REPO)
sys.path.insert(0, os.path.join(REPO, "TA-claw-runtime", "bin"))
sys.path.insert(0, HERE)

from claw_ta import tiers  # noqa: E402
from tests import paths, scp_driver  # noqa: E402
from tier_fleet import Fleet, app_copy  # noqa: E402

PASSTHROUGH = os.path.join(REPO, "tests", "support", "passthrough.py")


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def child_aggregate(n, digests, hosts):
    fleet = Fleet(digests, hosts)
    before = rss_mb()
    start = time.perf_counter()
    agg = tiers.Aggregator().add_all(fleet.events(n))
    seconds = time.perf_counter() - start
    print(json.dumps({"events": n, "pairs": len(agg.pairs), "seconds": seconds,
                      "rss_before_mb": before, "peak_rss_mb": rss_mb()}))


def aggregate_in_child(n, args):
    out = subprocess.run([sys.executable, __file__, "--child", str(n), "--digests", str(args.digests),
                          "--hosts", str(args.hosts)], check=True, stdout=subprocess.PIPE)
    return json.loads(out.stdout.decode().strip().splitlines()[-1])


def chunks_of(rows, size=50000):
    return [scp_driver.records_to_csv(rows[i:i + size]) for i in range(0, len(rows), size)] + [b""]


def timed(script, args, bodies, python, repeat):
    best, result = None, None
    for _ in range(repeat):
        result = scp_driver.run(script, args, bodies=bodies, python=python)
        if result.returncode != 0:
            raise SystemExit("%s failed: %s" % (os.path.basename(script), result.stderr[-2000:]))
        best = result.seconds if best is None else min(best, result.seconds)
    return best, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="the 10M-event case (1M and 10M)")
    parser.add_argument("--sizes", type=int, nargs="*", help="event counts to aggregate")
    parser.add_argument("--digests", type=int, default=5000)
    parser.add_argument("--hosts", type=int, default=2000)
    parser.add_argument("--python", help="interpreter for the commands (default: Splunk's 3.13, else this one)")
    parser.add_argument("--repeat", type=int, default=2, help="protocol runs per command (best is kept)")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child_aggregate(args.child, args.digests, args.hosts)
    sizes = args.sizes or ([1000000, 10000000] if args.full else [1000000, 2000000])
    python = args.python or paths.splunk_pythons().get("3.13") or sys.executable
    fleet = Fleet(args.digests, args.hosts)
    print("fleet: %d digests, %d hosts, %d (digest, host) pairs; 7 days; commands run with %s"
          % (args.digests, args.hosts, len(fleet.pairs), python))

    print("\n1. Python pre-aggregation (replay twin of stats), one process per size")
    print("%12s %10s %12s %14s %14s" % ("events", "pairs", "events/s", "RSS before MB", "peak RSS MB"))
    for n in sizes:
        r = aggregate_in_child(n, args)
        print("%12d %10d %12.0f %14.1f %14.1f" % (r["events"], r["pairs"], r["events"] / r["seconds"],
                                                  r["rss_before_mb"], r["peak_rss_mb"]))

    rows = tiers.aggregate_events(fleet.events(sizes[0]))
    bodies = chunks_of(rows)
    with tempfile.TemporaryDirectory() as tmp:
        app = app_copy(tmp)
        script = os.path.join(app, "bin", "clawtierbaseline.py")
        now = "now=%d" % (1794528000 + 7 * 86400)
        base_s, _ = timed(PASSTHROUGH, [], bodies, python, args.repeat)
        train_s, trained = timed(script, ["mode=train", now], bodies, python, args.repeat)
        lookup = os.path.join(app, "lookups", "claw_tier_baseline.csv")
        tiers.write_baseline_csv(lookup, trained.records)
        size_mb = os.path.getsize(lookup) / 1048576.0
        detect_s, detected = timed(script, ["mode=detect"], bodies, python, args.repeat)
    print("\n2. Through the protocol, %d aggregated rows (the stats output of %d events), best of %d"
          % (len(rows), sizes[0], args.repeat))
    print("%-28s %9s %12s %22s" % ("command", "seconds", "rows/s", "time vs pass-through"))
    for name, secs in (("pass-through (splunklib)", base_s), ("clawtierbaseline mode=train", train_s),
                       ("clawtierbaseline mode=detect", detect_s)):
        print("%-28s %9.2f %12.0f %21.2fx" % (name, secs, len(rows) / secs, secs / base_s))
    anomalies = sum(1 for r in detected.records if r.get("is_anomaly") == "1")
    print("train output: %d baseline rows; detect output: %d rows, %d anomalies (the same data: expect 0)"
          % (len(trained.records), len(detected.records), anomalies))
    print("\n3. Baseline lookup for this fleet: %.1f MB (target < 50 MB)" % size_mb)


if __name__ == "__main__":
    main()
