"""Benchmark of | clawsbomcheck against the hand loop and framing-only limits, same run, same input.

Every command runs as a subprocess speaking SCP v2 (benchmarks/sbom_child.py)
under each Splunk Python (3.9 and 3.13), on splunkd-like chunks (every field
with its __mv_ twin column), from the app as it ships (claw_ta_tools.package):

- against the splunklib pass-through (a StreamingCommand that yields its
  records, tools/claw_ta_tools/emulators/passthrough.py, the SDK copy the app
  gives that Python), runs alternating on the same chunk, ratio = the
  pass-through's time / clawsbomcheck's (its throughput in units of the
  pass-through's): narrow (7 fields, every record a library load, 5,000
  subjects all new in the chunk: the first chunk of a fleet-wide unlisted
  search; target >= 1.0x), wide (20 fields, 1,500 subjects; target >= 1.5x)
  and newline-heavy (the narrow records plus a 64-value multivalue field);

- throughput on every shape: narrow (6 fields) and wide (60 fields), 10/50/100%
  library loads, 1/100/5,000 distinct subjects per chunk; printed as the ratio
  of clawsbomcheck's records/s to the hand loop's (csv.reader -> csv.writer,
  one Python loop per record: target >= 1.0) and to the framing-only limit
  (body echoed back), both measured in the same run (benchmarks/sbom_limits.py);
- the verdict cost when the cache misses (in-process, every key distinct;
  target <= 3 us), with a dict lookup timed alongside as the machine's unit;
- the SBOM index at --big-rows library rows (default 3M): `claw-ta sbom-index`'s
  table builder peak RSS (target < 300 MB, and the same at a tenth of the rows),
  clawsbomcheck start-up (process, getinfo, tables opened; target < 0.5 s) and
  RSS after a chunk naming 5,000 subjects (target < 150 MB).

    .venv/bin/python benchmarks/bench_sbomcheck.py                  # everything
    .venv/bin/python benchmarks/bench_sbomcheck.py --quick          # 1 chunk, fewer shapes, 300k-row index
    .venv/bin/python benchmarks/bench_sbomcheck.py --only throughput --shape narrow --subjects 5000
    .venv/bin/python benchmarks/bench_sbomcheck.py --only passthrough     # narrow, wide, newline-heavy
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, REPO)
sys.path.insert(0, os.path.join(REPO, "TA-claw-runtime", "bin"))
sys.path.insert(0, os.path.join(REPO, "tools"))

from benchmarks import sbom_app, sbom_data  # noqa: E402
from claw_ta_tools.emulators import PASSTHROUGH  # noqa: E402
from claw_ta_tools.emulators.interpreters import splunk_pythons  # noqa: E402

LIMITS = os.path.join(HERE, "sbom_limits.py")
BUILD_PROBE = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[2])
from benchmarks import sbom_data
from claw_ta.sbom.index import Tables
start = time.perf_counter()
tables = Tables()
for _, _, doc in sbom_data.documents(int(sys.argv[3]) // 60):
    tables.add(doc)
tables.write(sys.argv[4] + "/claw_sbom_subjects.csv", sys.argv[4] + "/claw_sbom_libraries.csv")
tables.close()
# VmHWM: this process's own peak (ru_maxrss would include the parent's size at fork)
peak = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]
print(json.dumps({"seconds": time.perf_counter() - start, "rss_mb": int(peak) / 1024.0}))
"""
MISS_PROBE = r"""
import gc, json, random, sys, time
sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[2])
from benchmarks import sbom_data
from claw_ta.sbom.matcher import SbomIndex
tables, subjects = sbom_data.make_index(300000)
index = SbomIndex.from_tables(tables)
rnd = random.Random(3)
keys = []
for n in range(100000):
    digest, libs = rnd.choice(subjects)
    path, lib, _ = rnd.choice(libs)
    keys.append(("", digest, path + ("" if n % 3 else ".%d" % n), "sha256:" + lib))
keys = list(dict.fromkeys(keys))
for digest, _ in subjects:
    index._pool_list("", digest[7:])  # documents loaded: only the verdicts miss
gc.disable()
check = index.check_values
clock = time.process_time  # this process's CPU time: other load on the machine counts less than in wall time
start = clock()
for key in keys:
    check("library_load", *key)
miss = (clock() - start) / len(keys)
table = dict((k, 1) for k in keys)
start = clock()
for _ in range(5):
    for key in keys:
        table.get(key)
unit = (clock() - start) / len(keys) / 5
print(json.dumps({"miss_us": miss * 1e6, "dict_get_us": unit * 1e6, "keys": len(keys)}))
"""


def child(python, script, body_file, chunks, args=()):
    out = subprocess.run([sys.executable, os.path.join(HERE, "sbom_child.py"), python, script,
                          body_file, str(chunks)] + list(args), check=True, stdout=subprocess.PIPE).stdout
    return json.loads(out.decode())


def probe(python, code, *args):
    out = subprocess.run([python, "-c", code, sbom_app.APP_BIN, REPO] + [str(a) for a in args],
                         check=True, stdout=subprocess.PIPE).stdout
    return json.loads(out.decode())


def timed(python, script, body_file, chunks, args, runs):
    """Median execute time of ``runs`` runs, and whether every chunk was answered."""
    results = [child(python, script, body_file, chunks, args) for _ in range(runs)]
    return statistics.median(r["execute"] for r in results), all(r["chunks"] == chunks for r in results)


def throughput(python, scripts, bodies, chunks, runs):
    print("  throughput (records/s, median of %d runs; ratio = clawsbomcheck / limit, same input; "
          "target >= 1.0x the hand loop); the first chunk is cold (every verdict a miss), the others warm:" % runs)
    worst = None
    for (shape, loads, distinct), (body_file, records, fields) in sorted(bodies.items()):
        mine, ok = timed(python, scripts["clawsbomcheck"], body_file, chunks, [], runs)
        hand, _ = timed(python, LIMITS, body_file, chunks, ["handloop"], runs)
        frame, _ = timed(python, LIMITS, body_file, chunks, ["framing"], runs)
        rate = lambda seconds: chunks * records / seconds  # noqa: E731
        worst = hand / mine if worst is None else min(worst, hand / mine)
        print("    %-6s %2d fields %3d%% loads %5d subjects: clawsbomcheck %7.0f, hand loop %7.0f (%.2fx), "
              "framing %8.0f (%.2fx)%s" % (shape, fields, loads * 100, distinct, rate(mine), rate(hand),
                                         hand / mine, rate(frame), frame / mine, "" if ok else "  CHUNKS MISSING"))
    print("    worst ratio to the hand loop: %.2fx" % worst)


def versus_passthrough(python, script, bodies, runs):
    """clawsbomcheck and the pass-through alternating on each body (one chunk per run: the cold one)."""
    print("  against the splunklib pass-through (one chunk, runs alternating, median of %d; ratio = "
          "pass-through / clawsbomcheck, in wall time and in CPU time of the chunk (the command's own, from "
          "the getinfo reply to the chunk's reply: less moved by other load on the machine); "
          "targets: narrow >= 1.0x, wide >= 1.5x):" % runs)
    for shape, (body_file, records, fields, subjects) in bodies.items():
        mine, base, answered = [], [], True
        for _ in range(runs):
            run = child(python, script, body_file, 1)
            mine.append((run["execute"], run["execute_cpu"] or run["cpu"]))
            answered = answered and run["chunks"] == 1
            run = child(python, PASSTHROUGH, body_file, 1)
            base.append((run["execute"], run["execute_cpu"] or run["cpu"]))
        wall = statistics.median(b[0] for b in base) / statistics.median(m[0] for m in mine)
        cpu = statistics.median(b[1] for b in base) / statistics.median(m[1] for m in mine)
        print("    %-7s %2d fields %6d records %5d subjects %5.1f MB: clawsbomcheck %.3f s (CPU %.2f s), "
              "pass-through %.3f s (CPU %.2f s): %.2fx wall, %.2fx CPU%s"
              % (shape, fields, records, subjects, os.path.getsize(body_file) / 1e6,
                 statistics.median(m[0] for m in mine), statistics.median(m[1] for m in mine),
                 statistics.median(b[0] for b in base), statistics.median(b[1] for b in base), wall, cpu,
                 "" if answered else "  CHUNK MISSING"))


def passthrough_bodies(work, subjects, args):
    sizes = {"narrow": (args.chunk_size, 5000), "wide": (args.wide_chunk_size, 1500),
             "newline": (args.newline_chunk_size, 5000)}
    bodies = {}
    for shape in ("narrow", "wide", "newline"):
        if args.shape and shape not in args.shape:
            continue
        count, distinct = sizes[shape]
        chosen = subjects[:distinct]
        body, fields = sbom_data.passthrough_body(shape, count, chosen)
        path = os.path.join(work, "passthrough-%s.csv" % shape)
        with open(path, "wb") as handle:
            handle.write(body)
        bodies[shape] = (path, count, fields, len(chosen))
    return bodies


def main(argv=None):
    sys.stdout.reconfigure(line_buffering=True)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=2, help="execute chunks per run (default 2)")
    parser.add_argument("--chunk-size", type=int, default=50000, help="records per narrow chunk (default 50000)")
    parser.add_argument("--wide-chunk-size", type=int, default=20000,
                        help="records per wide chunk (default 20000: about 43 MB)")
    parser.add_argument("--index-rows", type=int, default=360000, help="library rows of the throughput index")
    parser.add_argument("--big-rows", type=int, default=3000000, help="library rows of the start-up index")
    parser.add_argument("--startup-runs", type=int, default=3, help="start-up samples (median)")
    parser.add_argument("--runs", type=int, default=3, help="throughput runs per command and shape (median)")
    parser.add_argument("--python", action="append", help="only these versions (3.9, 3.13)")
    parser.add_argument("--quick", action="store_true", help="1 chunk, 2 shapes, a 300k-row start-up index")
    parser.add_argument("--newline-chunk-size", type=int, default=5000,
                        help="records per newline-heavy chunk (default 5000: about 17 MB)")
    parser.add_argument("--only", choices=("passthrough", "throughput", "index"),
                        help="only the pass-through comparison, the throughput or the index part")
    parser.add_argument("--shape", action="append", choices=("narrow", "wide", "newline"),
                        help="only these record shapes (newline: the pass-through comparison only)")
    parser.add_argument("--subjects", action="append", type=int, choices=(1, 100, 5000),
                        help="only these distinct subjects per chunk")
    args = parser.parse_args(argv)
    if args.quick:
        args.chunks, args.big_rows, args.runs = 1, 300000, 1
    pythons = splunk_pythons()
    if args.python:
        pythons = dict((k, v) for k, v in pythons.items() if k in args.python)
    work = tempfile.mkdtemp(prefix="bench_sbom_")
    try:
        tables, subjects = sbom_data.make_index(args.index_rows)
        scripts = sbom_app.make_app(os.path.join(work, "small"), tables=tables)
        tables.close()
        shapes = [(s, l, d) for s in ("narrow", "wide") for l in (0.1, 0.5, 1.0) for d in (1, 100, 5000)]
        if args.quick:
            shapes = [("narrow", 1.0, 5000), ("wide", 0.5, 100)]
        shapes = [(s, l, d) for s, l, d in shapes
                  if s in (args.shape or (s,)) and d in (args.subjects or (d,))]
        if args.only in ("index", "passthrough"):
            shapes = []
        versus = {} if args.only in ("index", "throughput") else passthrough_bodies(work, subjects, args)
        bodies = {}
        for shape, loads, distinct in shapes:
            size = args.chunk_size if shape == "narrow" else args.wide_chunk_size
            body, fields = sbom_data.make_body(shape, size, subjects, distinct, loads)
            path = os.path.join(work, "%s-%d-%d.csv" % (shape, loads * 100, distinct))
            with open(path, "wb") as handle:
                handle.write(body)
            bodies[(shape, loads, distinct)] = (path, size, fields)
        big = os.path.join(work, "big", "app", "lookups")
        big_scripts = sbom_app.make_app(os.path.join(work, "big"))
        tenth = os.path.join(work, "tenth")
        os.makedirs(tenth)
        python0 = sorted(pythons.values())[0]
        if args.only in ("throughput", "passthrough"):
            args.big_rows = 6000
        build = probe(python0, BUILD_PROBE, args.big_rows, big)
        build_tenth = probe(python0, BUILD_PROBE, args.big_rows // 10, tenth)
        big_body, _ = sbom_data.make_body("narrow", 5000, [("sha256:" + d, l) for d, l, _ in
                                                            sbom_data.documents(args.big_rows // 60)], 5000, 1.0)
        big_file = os.path.join(work, "big-5000-subjects.csv")
        with open(big_file, "wb") as handle:
            handle.write(big_body)
        empty = os.path.join(work, "empty.csv")
        open(empty, "wb").close()
        print("throughput index: %d library rows, %d subjects; start-up index: %d library rows (%.0f MB), "
              "%d subjects" % (args.index_rows, len(subjects), args.big_rows,
                               sum(os.path.getsize(os.path.join(big, f)) for f in os.listdir(big)) / 1e6,
                               args.big_rows // 60))
        print("claw-ta sbom-index table builder (Python %s): %d rows %.0f s, peak RSS %.0f MB; %d rows: peak RSS "
              "%.0f MB (target < 300 MB, independent of rows)"
              % (python0, args.big_rows, build["seconds"], build["rss_mb"], args.big_rows // 10,
                 build_tenth["rss_mb"]))
        for label, python in sorted(pythons.items()):
            print("\nPython %s (%s)" % (label, python))
            if versus:
                versus_passthrough(python, scripts["clawsbomcheck"], versus, max(args.runs, 3))
            if args.only == "passthrough":
                continue
            if args.only != "index":
                throughput(python, scripts, bodies, args.chunks, args.runs)
            if args.only == "throughput":
                continue
            miss = probe(python, MISS_PROBE)
            print("  verdict on a cache miss: %.2f us (a dict lookup: %.3f us on this machine now; "
                  "%.0f lookups per miss; target <= 3 us)" % (miss["miss_us"], miss["dict_get_us"],
                                                              miss["miss_us"] / miss["dict_get_us"]))
            starts = [child(python, big_scripts["clawsbomcheck"], empty, 1)["startup"]
                      for _ in range(args.startup_runs)]
            base_starts = [child(python, PASSTHROUGH, empty, 1)["startup"] for _ in range(args.startup_runs)]
            run = child(python, big_scripts["clawsbomcheck"], big_file, 1)
            hand = child(python, LIMITS, big_file, 1, ["handloop"])
            print("  %d-row index: start-up (process, getinfo, tables opened) median %.3f s (splunklib "
                  "pass-through, no tables: %.3f s; target < 0.5 s); a 5,000-record chunk naming 5,000 subjects: "
                  "%.2f s, peak RSS %.0f MB (hand loop %.0f MB; target < 150 MB)"
                  % (args.big_rows, statistics.median(starts), statistics.median(base_starts), run["execute"],
                     run["rss_mb"], hand["rss_mb"]))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
