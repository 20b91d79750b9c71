"""Benchmark of | clawtierbaseline at fleet scale: train and detect vs the pass-through.

Feeds N aggregated rows (what the `claw_tier_aggregate` stats emits: one row
per image digest and host, with tier and namespace labels) through the real
protocol (tools/claw_ta_tools/emulators/scp_driver.py: splunkd's CSV dialect, 50,000-row chunks,
header-only final chunk) to, measured in the same run:

- the splunklib pass-through command (claw_ta_tools.emulators.PASSTHROUGH), the limit
  a Python command is compared against;
- `clawtierbaseline mode=train` with no baseline yet, then `mode=detect`
  against the baseline that train produced (every pair is scored).

For each N it prints wall seconds and CPU seconds (user + system of the
command process: on a shared machine the steadier of the two) with their
ratio to the pass-through (target: at most 1.5 at 1M rows), the CPU cost per
row with the start-up (a run with no rows) taken out (target: linear, within
20% from 10k to 1M), and the command's peak RSS (target: under 500 MB at 1M
rows).

    python benchmarks/bench_tierbaseline.py                       # 10k, 100k, 1M rows, Python 3.9 and 3.13
    python benchmarks/bench_tierbaseline.py --rows 10000 100000   # quicker
    python benchmarks/bench_tierbaseline.py --python /path/to/python3.9
"""
import argparse
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, REPO)
sys.path.insert(0, os.path.join(REPO, "TA-claw-runtime", "bin"))
sys.path.insert(0, os.path.join(REPO, "tools"))
sys.path.insert(0, HERE)

from claw_ta import tiers  # noqa: E402
from claw_ta_tools.emulators import PASSTHROUGH, scp_driver  # noqa: E402
from claw_ta_tools.emulators.interpreters import splunk_pythons  # noqa: E402
from tier_fleet import NAMESPACES, Fleet, app_copy  # noqa: E402

NOW = "now=%d" % (1794528000 + 7 * 86400)


def bodies_of(rows, size=50000):
    bodies = [scp_driver.records_to_csv(rows[i:i + size]) for i in range(0, len(rows), size)]
    return bodies + [scp_driver.header_line(list(rows[0])).encode()]  # the header-only final chunk


def timed(runs, repeat):
    """{name: (best seconds, peak RSS MB, last result, best CPU seconds)} over ``repeat`` rounds.

    ``runs``: {name: (script, args, bodies, python)}. The rounds interleave the
    runs (a, b, c, a, b, c, ...), so that a change in the machine's load (it is
    shared) falls on all of them alike rather than on whichever ran last.
    """
    out = {}
    for _ in range(repeat):
        for name, (script, args, bodies, python) in runs.items():
            result = scp_driver.run(script, args, bodies=bodies, python=python)
            if result.returncode != 0 or result.errors():
                raise SystemExit("%s failed: %s %s" % (os.path.basename(script), result.errors(),
                                                       result.stderr[-2000:]))
            best, peak, _, cpu = out.get(name, (None, 0.0, None, None))
            out[name] = (result.seconds if best is None else min(best, result.seconds),
                         max(peak, result.peak_rss_mb or 0.0), result,
                         result.cpu_seconds if cpu is None else min(cpu, result.cpu_seconds))
    return out


def measure(python, n, repeat, app):
    if n < 100000:
        repeat *= 4  # start-up dominates a small run: more runs, best kept, for a stable per-row cost
    rows = list(Fleet.for_rows(n).stats_rows(n))
    bodies, empty = bodies_of(rows), [scp_driver.header_line(list(rows[0])).encode()]
    script = os.path.join(app, "bin", "clawtierbaseline.py")
    lookup = os.path.join(app, "lookups", tiers.BASELINE_LOOKUP)
    trust = "trusted_namespaces=" + NAMESPACES
    # train merges into a lookup that never exists (a first training run, every time);
    # detect scores against the baseline that train produced
    train = ["mode=train", NOW, trust, "baseline_lookup=claw_tier_bench_none.csv"]
    detect = ["mode=detect", trust]
    first = timed({"train": (script, train, bodies, python)}, 1)["train"]
    tiers.write_baseline_csv(lookup, first[2].records)
    out = timed({"pass": (PASSTHROUGH, [], bodies, python), "train": (script, train, bodies, python),
                 "detect": (script, detect, bodies, python), "pass0": (PASSTHROUGH, [], empty, python),
                 "train0": (script, train, empty, python), "detect0": (script, detect, empty, python)}, repeat)
    detected = out["detect"][2].records
    anomalies = sum(1 for r in detected if r.get("is_anomaly") == "1")
    if len(detected) != n or anomalies:
        raise SystemExit("detect: %d rows, %d anomalies (expected %d rows, 0 anomalies)"
                         % (len(detected), anomalies, n))
    out["lookup_mb"] = os.path.getsize(lookup) / 1048576.0
    return out


def report(python, sizes, repeat):
    print("\n== %s" % python)
    print("%9s %-8s %9s %10s %9s %10s %12s %10s" % ("rows", "command", "seconds", "vs pass", "CPU s",
                                                  "CPU vs pass", "CPU us/row*", "peak MB"))
    per_row = {"train": [], "detect": [], "pass": []}
    with tempfile.TemporaryDirectory() as tmp:
        app = app_copy(tmp)
        for n in sizes:
            m = measure(python, n, repeat, app)
            for name in ("pass", "train", "detect"):
                secs, peak, _, cpu = m[name]
                us = (cpu - m[name + "0"][3]) / n * 1e6
                per_row[name].append(us)
                print("%9d %-8s %9.2f %9.2fx %9.2f %10.2fx %12.2f %10.1f" % (
                    n, name, secs, secs / m["pass"][0], cpu, cpu / m["pass"][3], us, peak))
            print("%9s baseline lookup %.1f MB" % ("", m["lookup_mb"]))
    print("* CPU time per row with the start-up (a run with no rows) taken out")
    for name in ("train", "detect"):
        costs = per_row[name]
        # the same in units of the pass-through's per-row cost at each size: what is left
        # when the machine's load (shared) changed between sizes
        relative = [us / base for us, base in zip(costs, per_row["pass"])]
        print("%-6s per-row cost, largest / smallest over the sizes: %.2f; in pass-through rows: %.2f "
              "(target <= 1.20)" % (name, max(costs) / min(costs), max(relative) / min(relative)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="*", default=[10000, 100000, 1000000])
    parser.add_argument("--python", action="append",
                        help="interpreter(s) for the commands (default: Splunk's 3.9 and 3.13)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (best time is kept)")
    args = parser.parse_args()
    pythons = args.python or list(splunk_pythons().values()) or [sys.executable]
    for python in pythons:
        report(python, sorted(args.rows), args.repeat)


if __name__ == "__main__":
    main()
