"""Benchmark of | clawsbomcheck against a plain splunklib pass-through, same run, same input.

Both commands run as subprocesses speaking SCP v2 (benchmarks/sbom_child.py),
under each Splunk Python (3.9 and 3.13), on splunkd-like chunks (all event
fields with their __mv_ twin columns) and a synthetic SBOM index.

    .venv/bin/python benchmarks/bench_sbomcheck.py                 # defaults: 3 chunks
    .venv/bin/python benchmarks/bench_sbomcheck.py --chunks 10     # longer run

Targets (issue 3): throughput >= 1.5x the pass-through; start-up (process
start, getinfo, index load) < 0.5 s with the 120,000-row index; index memory
< 50 MB; peak RSS < 250 MB with 50,000-record chunks.
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

from benchmarks import sbom_app, sbom_data  # noqa: E402
from tests.paths import splunk_pythons  # noqa: E402

PASSTHROUGH = os.path.join(REPO, "tests", "support", "passthrough.py")
MEMORY_PROBE = r"""
import json, sys, time, tracemalloc
sys.path.insert(0, sys.argv[1])
from claw_ta.sbom.matcher import SbomIndex
start = time.perf_counter(); SbomIndex.load(sys.argv[2]); seconds = time.perf_counter() - start
tracemalloc.start()
index = SbomIndex.load(sys.argv[2])
loaded = tracemalloc.get_traced_memory()[0]
for digest in list(index._blocks):
    index._subject(digest)
used = tracemalloc.get_traced_memory()
print(json.dumps({"load_s": seconds, "loaded_mb": loaded / 1e6, "all_used_mb": used[0] / 1e6,
                  "peak_mb": used[1] / 1e6, "subjects": index.subjects, "rows": len(index)}))
"""


def child(python, script, body_file, chunks):
    out = subprocess.run([sys.executable, os.path.join(HERE, "sbom_child.py"), python, script,
                          body_file, str(chunks)], check=True, stdout=subprocess.PIPE).stdout
    return json.loads(out.decode())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=3, help="execute chunks per run (default 3)")
    parser.add_argument("--chunk-size", type=int, default=50000, help="records per chunk (default 50000)")
    parser.add_argument("--index-rows", type=int, default=120000, help="SBOM index rows (default 120000)")
    parser.add_argument("--startup-runs", type=int, default=5, help="start-up samples (median)")
    parser.add_argument("--python", action="append", help="only these versions (3.9, 3.13)")
    args = parser.parse_args(argv)
    pythons = splunk_pythons()
    if args.python:
        pythons = dict((k, v) for k, v in pythons.items() if k in args.python)
    work = tempfile.mkdtemp(prefix="bench_sbom_")
    try:
        rows, subjects = sbom_data.make_index(args.index_rows)
        scripts = sbom_app.make_app(work, rows)
        lookup = os.path.join(work, "app", "lookups", "claw_sbom_libraries.csv")
        bodies, names = sbom_data.make_bodies(1, args.chunk_size, subjects)
        body_file = os.path.join(work, "body.csv")
        with open(body_file, "wb") as handle:
            handle.write(bodies[0])
        empty = os.path.join(work, "empty.csv")
        open(empty, "wb").close()
        records = args.chunks * args.chunk_size
        print("input: %d chunks x %d records, %d fields (+ __mv_ twins), %.1f MB per chunk; "
              "index: %d rows, %d subjects (%.1f MB CSV)"
              % (args.chunks, args.chunk_size, len(names), len(bodies[0]) / 1e6, len(rows),
                 len(subjects), os.path.getsize(lookup) / 1e6))
        for label, python in sorted(pythons.items()):
            starts = [child(python, scripts["clawsbomcheck"], empty, 1)["startup"]
                      for _ in range(args.startup_runs)]
            base_starts = [child(python, PASSTHROUGH, empty, 1)["startup"] for _ in range(args.startup_runs)]
            base = child(python, PASSTHROUGH, body_file, args.chunks)
            mine = child(python, scripts["clawsbomcheck"], body_file, args.chunks)
            memory = json.loads(subprocess.run(
                [python, "-c", MEMORY_PROBE, sbom_app.APP_BIN, lookup], check=True,
                stdout=subprocess.PIPE).stdout.decode())
            ok = mine["chunks"] == base["chunks"] == args.chunks
            ratio = base["execute"] / mine["execute"]
            print("\nPython %s (%s)%s" % (label, python, "" if ok else "  CHUNKS MISSING"))
            print("  throughput: clawsbomcheck %.0f rec/s, pass-through %.0f rec/s: ratio %.2fx (target >= 1.5x)"
                  % (records / mine["execute"], records / base["execute"], ratio))
            print("  start-up (process, getinfo, index load), median of %d: clawsbomcheck %.3f s "
                  "(pass-through %.3f s; target < 0.5 s)"
                  % (args.startup_runs, statistics.median(starts), statistics.median(base_starts)))
            print("  index: load %.3f s in-process; memory %.1f MB after load, %.1f MB with every "
                  "subject parsed (peak %.1f MB; target < 50 MB)"
                  % (memory["load_s"], memory["loaded_mb"], memory["all_used_mb"], memory["peak_mb"]))
            print("  peak RSS: clawsbomcheck %.0f MB, pass-through %.0f MB (target < 250 MB)"
                  % (mine["rss_mb"], base["rss_mb"]))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
