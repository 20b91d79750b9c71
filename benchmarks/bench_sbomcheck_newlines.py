"""Benchmark of | clawsbomcheck on a chunk full of newline-heavy fields, against the same chunk without them.

The unlisted rule's ``values(subject_name)`` becomes one quoted field with a
line end between values; a binary run through many hard-link names makes it
large, and a quoted field whose line ends cross the command's internal piece
boundary (claw_ta.sbom.stream.PIECE, 4 MiB) used to cost a scan of the piece
per line end. The command from the built package runs as a subprocess
speaking SCP v2 (benchmarks/sbom_child.py) under each Splunk Python, on two
bodies of the same size: line ends between the values, or spaces. Printed: the
ratio of the two execute times (median of --runs; target <= 3x).

    .venv/bin/python benchmarks/bench_sbomcheck_newlines.py [--mib 8] [--field-kib 1024] [--runs 3]
"""
import argparse
import csv
import hashlib
import io
import os
import shutil
import statistics
import subprocess
import sys
import json
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path[:0] = [REPO, os.path.join(REPO, "tools"), os.path.join(REPO, "TA-claw-runtime", "bin")]

from benchmarks import sbom_app  # noqa: E402
from claw_ta_tools.emulators.interpreters import splunk_pythons  # noqa: E402

FIELDS = ("event_type", "subject_digest", "image_digest", "library_path", "library_digest", "subject_name")


def _sha(text):
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def body(total_bytes, field_bytes, separator):
    """splunkd-like CSV (every field with its __mv_ twin): records whose subject_name holds
    ``field_bytes`` of hard-link names joined by ``separator``."""
    names = []
    size = 0
    while size < field_bytes:
        names.append("/srv/links/run-%06d" % len(names))
        size += len(names[-1]) + 1
    value = separator.join(names)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([n for f in FIELDS for n in (f, "__mv_" + f)])
    count = 0
    while out.tell() < total_bytes:
        count += 1
        writer.writerow(["library_load", "", _sha("bin"), "", _sha("image"), "", "/usr/lib/libz.so.1", "",
                         _sha("lib%d" % (count % 7)), "", value, ""])
    return out.getvalue().encode(), count


def run(python, script, body_file, runs):
    times = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, os.path.join(HERE, "sbom_child.py"), python, script, body_file, "1"],
                             check=True, stdout=subprocess.PIPE).stdout
        result = json.loads(out.decode())
        if result["chunks"] != 1:
            raise SystemExit("the command did not answer the chunk")
        times.append(result["execute"])
    return statistics.median(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=float, default=8.0, help="chunk size in MiB (default 8: two pieces)")
    parser.add_argument("--field-kib", type=int, default=1024, help="size of each newline-heavy field (KiB)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    work = tempfile.mkdtemp(prefix="bench_newlines_")
    try:
        scripts = sbom_app.make_app(work, lookup_rows=[{
            "subject_digest": _sha("image"), "library_path": "/usr/lib/libz.so.1",
            "library_digest": _sha("lib1"), "sbom_ref": "bench"}])
        files = {}
        for name, separator in (("newlines", "\n"), ("spaces", " ")):
            data, records = body(int(args.mib * (1 << 20)), args.field_kib << 10, separator)
            files[name] = os.path.join(work, name + ".csv")
            with open(files[name], "wb") as handle:
                handle.write(data)
        print("clawsbomcheck, one %.1f MiB chunk of %d records, each with a %d KiB subject_name field "
              "(median of %d runs; target: newlines <= 3x spaces)" % (args.mib, records, args.field_kib, args.runs))
        for label, python in sorted(splunk_pythons().items()):
            newlines = run(python, scripts["clawsbomcheck"], files["newlines"], args.runs)
            spaces = run(python, scripts["clawsbomcheck"], files["spaces"], args.runs)
            print("  Python %s: newlines %.3f s, spaces %.3f s: %.2fx" % (label, newlines, spaces,
                                                                   newlines / spaces))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
