"""The two limits bench_sbomcheck.py compares | clawsbomcheck with, as SCP v2 commands.

``handloop``: each chunk's CSV read with ``csv.reader`` and written back with
``csv.writer``, one Python loop per record (the practical limit of a Python
search command that looks at its records). ``framing``: each chunk's body
echoed back unparsed (the protocol's own cost). Neither imports splunklib.

The mode is the command's first argument (getinfo's ``searchinfo.args``), as
sbom_child.py passes it: ``sbom_child.py PYTHON sbom_limits.py BODY CHUNKS handloop``.
"""
import csv
import io
import json
import sys

csv.field_size_limit(2 ** 31 - 1)


def reply(out, body, meta):
    meta = json.dumps(meta).encode("utf-8")
    out.write(b"chunked 1.0,%d,%d\n" % (len(meta), len(body)))
    out.write(meta)
    out.write(body)
    out.flush()


def handloop(body):
    text = io.StringIO(body.decode("utf-8"), newline="")
    out = io.StringIO()
    writerow = csv.writer(out, lineterminator="\r\n").writerow
    for row in csv.reader(text):
        writerow(row)
    return out.getvalue().encode("utf-8")


def main():
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    work = None
    while True:
        header = stdin.readline()
        if not header:
            return 0
        meta_length, body_length = (int(n) for n in header.decode("ascii").strip().split(",")[1:3])
        meta = json.loads(stdin.read(meta_length).decode("utf-8"))
        body = stdin.read(body_length)
        if meta.get("action") == "getinfo":
            mode = (meta.get("searchinfo", {}).get("args") or ["framing"])[0]
            work = handloop if mode == "handloop" else (lambda data: data)
            reply(stdout, b"", {"type": "streaming"})
            continue
        reply(stdout, work(body), {"finished": bool(meta.get("finished"))})


if __name__ == "__main__":
    sys.exit(main())
