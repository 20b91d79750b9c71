"""A stand-in for splunkd that speaks the chunked search command protocol (SCP v2).

It starts a command script as a subprocess, exactly as splunkd does for a
``chunked = true`` command in commands.conf: the script gets no arguments,
reads ``chunked 1.0,<metadata length>,<body length>\\n<metadata><body>``
chunks on stdin and answers each one with a chunk of the same shape on stdout.

Input bodies are CSV as splunkd writes them: every field of the events, and a
``__mv_<field>`` twin column for each, holding ``$v1$;$v2$`` for a multivalue
field and empty otherwise (the plain column then holds the values joined by
newlines).

Used by the protocol tests (``tests/``) and by the benchmarks.
"""
import csv
import io
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
APP_BIN = os.path.join(REPO, "TA-claw-runtime", "bin")


def encode_chunk(metadata, body=b""):
    """One protocol chunk: header line, JSON metadata, body bytes."""
    meta = json.dumps(metadata).encode("utf-8")
    if isinstance(body, str):
        body = body.encode("utf-8")
    return b"chunked 1.0,%d,%d\n" % (len(meta), len(body)) + meta + body


def _mv_encode(values):
    return ";".join("$" + str(v).replace("$", "$$") + "$" for v in values)


def records_to_csv(records, fieldnames=None):
    """CSV body as splunkd sends it (with the ``__mv_`` twin columns)."""
    if not records:
        return b""
    if fieldnames is None:
        fieldnames = []
        seen = set()
        for rec in records:
            for key in rec:
                if key not in seen:
                    seen.add(key)
                    fieldnames.append(key)
    header = []
    for name in fieldnames:
        header.append(name)
        header.append("__mv_" + name)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for rec in records:
        row = []
        for name in fieldnames:
            value = rec.get(name)
            if value is None:
                row.extend(("", ""))
            elif isinstance(value, (list, tuple)):
                if len(value) == 1:
                    row.extend((str(value[0]), ""))
                else:
                    row.extend(("\n".join(str(v) for v in value), _mv_encode(value)))
            else:
                row.extend((str(value), ""))
        writer.writerow(row)
    return out.getvalue().encode("utf-8")


def _decode_mv(text):
    values = []
    i = 0
    while i < len(text):
        if text[i] != "$":
            raise ValueError("bad multivalue encoding: %r" % text)
        j = i + 1
        buf = []
        while True:
            if text[j] == "$":
                if j + 1 < len(text) and text[j + 1] == "$":
                    buf.append("$")
                    j += 2
                    continue
                break
            buf.append(text[j])
            j += 1
        values.append("".join(buf))
        i = j + 2  # skip closing $ and ;
    return values


def csv_to_records(body):
    """Records from a CSV body the command wrote, multivalues decoded to lists."""
    if not body:
        return []
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        return []
    records = []
    for row in reader:
        rec = {}
        for name, value in zip(header, row):
            if name.startswith("__mv_"):
                if value:
                    rec[name[5:]] = _decode_mv(value)
            elif name not in rec and value != "":
                rec[name] = value
        records.append(rec)
    return records


def read_chunk(stream):
    """(metadata dict, body bytes) or None at end of stream."""
    header = stream.readline()
    if not header:
        return None
    text = header.decode("utf-8").strip()
    if not text.startswith("chunked 1.0,"):
        raise RuntimeError("bad transport header from command: %r" % header[:200])
    meta_len, body_len = (int(x) for x in text[len("chunked 1.0,"):].split(","))
    meta = stream.read(meta_len)
    body = stream.read(body_len) if body_len else b""
    return json.loads(meta.decode("utf-8")), body


class Result(object):
    """What a protocol run produced."""

    def __init__(self):
        self.getinfo = None
        self.chunks = []  # (metadata, records) per execute response
        self.stderr = ""
        self.returncode = None
        self.seconds = 0.0

    @property
    def records(self):
        return [rec for _, chunk in self.chunks for rec in chunk]

    @property
    def messages(self):
        """(level, text) from every response's inspector messages."""
        found = []
        metas = [self.getinfo] + [m for m, _ in self.chunks]
        for meta in metas:
            for level, text in ((meta or {}).get("inspector") or {}).get("messages", []):
                found.append((level, text))
        return found

    def errors(self):
        return [t for level, t in self.messages if level in ("ERROR", "FATAL")]


def searchinfo(args, command, dispatch_dir, **extra):
    info = {
        "args": list(args),
        "raw_args": list(args),
        "dispatch_dir": dispatch_dir,
        "sid": "scp_driver_%d" % os.getpid(),
        "app": "TA-claw-runtime",
        "owner": "admin",
        "username": "admin",
        "session_key": "not-a-real-session-key",
        "splunkd_uri": "https://127.0.0.1:8089",
        "splunk_version": "9.3.0",
        "search": "| " + command + " " + " ".join(args),
        "command": command,
        "maxresultrows": 50000,
        "earliest_time": "0",
        "latest_time": "0",
    }
    info.update(extra)
    return info


def run(script, args=(), chunks=(), python=None, env=None, fieldnames=None,
        bodies=None, timeout=600, dispatch_dir=None, **info_extra):
    """Run ``script`` through getinfo and one execute chunk per item of ``chunks``.

    ``chunks`` is a list of record lists; the last one is sent with
    ``finished: true`` (send ``[]`` last for splunkd's final empty chunk).
    ``bodies`` may give pre-encoded CSV bodies instead (for benchmarks).
    """
    python = python or sys.executable
    command = os.path.splitext(os.path.basename(script))[0]
    own_dir = None
    if dispatch_dir is None:
        own_dir = tempfile.mkdtemp(prefix="scp_dispatch_")
        dispatch_dir = own_dir
    if bodies is None:
        bodies = [records_to_csv(c, fieldnames) for c in chunks]
    result = Result()
    start = time.perf_counter()
    proc = subprocess.Popen(
        [python, script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, cwd=os.path.dirname(script), env=env)
    err_file = tempfile.TemporaryFile()
    import threading

    def drain():
        for block in iter(lambda: proc.stderr.read(65536), b""):
            err_file.write(block)

    t = threading.Thread(target=drain, daemon=True)
    t.start()
    try:
        info = searchinfo(args, command, dispatch_dir, **info_extra)
        proc.stdin.write(encode_chunk({"action": "getinfo", "preview": False,
                                       "streaming_command_will_restart": False,
                                       "searchinfo": info}))
        proc.stdin.flush()
        reply = read_chunk(proc.stdout)
        result.getinfo = reply[0] if reply else None
        if reply and reply[0].get("type") is not None:
            for i, body in enumerate(bodies):
                finished = i == len(bodies) - 1
                try:
                    proc.stdin.write(encode_chunk({"action": "execute", "finished": finished}, body))
                    proc.stdin.flush()
                except (BrokenPipeError, OSError):
                    break  # the command exited (an error it reported in getinfo)
                reply = read_chunk(proc.stdout)
                if reply is None:
                    break
                result.chunks.append((reply[0], csv_to_records(reply[1])))
        try:
            proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        proc.wait(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        t.join(timeout=5)
        err_file.seek(0)
        result.stderr = err_file.read().decode("utf-8", "replace")
        err_file.close()
    result.seconds = time.perf_counter() - start
    result.returncode = proc.returncode
    if own_dir:
        import shutil
        shutil.rmtree(own_dir, ignore_errors=True)
    return result
