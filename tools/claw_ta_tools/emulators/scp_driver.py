"""A stand-in for splunkd that speaks the chunked search command protocol (SCP v2).

It starts a command script as a subprocess, exactly as splunkd does for a
``chunked = true`` command in commands.conf: the script gets no arguments,
reads ``chunked 1.0,<metadata length>,<body length>\\n<metadata><body>``
chunks on stdin and answers each one with a chunk of the same shape on stdout.

The driver speaks splunkd's dialect, as recorded from real splunkd:

- CSV bodies: all plain columns first, then one ``__mv_<field>`` twin per
  column (``$v1$;$v2$`` for a multivalue field, empty otherwise; the plain
  column then holds the values joined by newlines); lines end with ``\\n``;
  every value (and column name) with a character outside ``[A-Za-z0-9]`` is
  quoted, empty values are not. Recorded: splunk-sdk-python (Apache-2.0),
  ``tests/searchcommands/recordings/scpv2/Splunk-6.3/sum.reduce.input`` (kept
  in ``tests/data/scp_recordings``) and ``countmatches.input``
  (https://github.com/splunk/splunk-sdk-python/tree/develop/tests/searchcommands/recordings/scpv2/Splunk-6.3);
  Splunk 8.2 captures in
  https://github.com/NDietrich/Splunk-CustomSearchProtocol-v2/tree/master/example_messages
- ``_chunked_idx``: for a streaming or stateful command (getinfo ``type``)
  each record carries ``_chunked_idx`` (0, 1, ... within the chunk) as its last
  plain column (``doubleage (streaming).md``, ``accumages (stateful).md`` in
  the captures above); a reporting or events command gets none
  (``averageage (reporting).md``, ``events.txt``).
- Header-only chunks: an empty record list is sent as the header line alone
  (``finished: false`` mid-stream, and the final ``finished: true`` chunk),
  once the columns are known; before that, as an empty body (the captures'
  "EXECUTE message from Splunk (without data)").
- ``searchinfo.search`` is URL-encoded (every capture); splunklib unquotes it.
- ``preview``: getinfo's ``preview`` flag and, per chunk, ``"preview": true``
  in the execute metadata (``preview_chunks``): from recorded splunkd traffic,
  not from Splunk documentation (not verified by these tests).
- The dispatch folder may not exist (``dispatch_exists=False``): splunklib
  points ``tempfile.tempdir`` at it, so a command must not rely on it.
- A getinfo-only run (``chunks=None``): splunkd probes the command and closes
  its stdin.

A command that stops answering (no reply to getinfo or to an execute chunk)
or exits non-zero without having sent an ``inspector`` ERROR/FATAL message
fails the test with :class:`ProtocolError`: in Splunk the user would see only
"external search command exited unexpectedly".

Used by the protocol tests (``tests/``) and by the benchmarks (``benchmarks/``).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from urllib.parse import quote

from claw_ta_tools.emulators.scp_csv import (  # noqa: F401  (the driver's public API)
    CHUNKED_IDX, csv_to_records, field_order, header_line, quote_value, records_to_csv)



class ProtocolError(AssertionError):
    """The command broke the protocol: it died without replying, or failed without an ERROR message."""


def encode_chunk(metadata, body=b""):
    """One protocol chunk: header line, JSON metadata, body bytes."""
    meta = json.dumps(metadata, separators=(",", ":")).encode("utf-8")
    if isinstance(body, str):
        body = body.encode("utf-8")
    return b"chunked 1.0,%d,%d\n" % (len(meta), len(body)) + meta + body


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
        self.replies = []  # (metadata, body bytes) per execute response, decoded on first use
        self.sent = []  # metadata of every execute chunk sent
        self._decoded = None
        self.stderr = ""
        self.returncode = None
        self.seconds = 0.0
        self.peak_rss_mb = None  # the command's peak resident memory
        self.cpu_seconds = None  # the command's user + system CPU time (less sensitive to a busy machine)

    def _decode(self):
        if self._decoded is None or len(self._decoded[0]) != len(self.replies):
            chunks, idx = [], []
            for meta, body in self.replies:
                records = csv_to_records(body)
                idx.append(_take_chunked_idx(records))
                chunks.append((meta, records))
            self._decoded = chunks, idx
        return self._decoded

    @property
    def chunks(self):
        """(metadata, records) per execute response."""
        return self._decode()[0]

    @property
    def chunked_idx(self):
        """Per response: the _chunked_idx values returned (taken out of the records)."""
        return self._decode()[1]

    @property
    def records(self):
        return [rec for _, chunk in self.chunks for rec in chunk]

    @property
    def messages(self):
        """(level, text) from every response's inspector messages."""
        found = []
        metas = [self.getinfo] + [m for m, _ in self.replies]
        for meta in metas:
            for level, text in ((meta or {}).get("inspector") or {}).get("messages", []):
                found.append((level, text))
        return found

    def errors(self):
        return [t for level, t in self.messages if level in ("ERROR", "FATAL")]


def assert_error_reported(result, *words):
    """Asserts that an inspector ERROR (or FATAL) message holding every word reached splunkd.

    For the failure paths of every command: splunkd shows these messages; a
    traceback on stderr alone is not a report.
    """
    errors = result.errors()
    assert any(all(w in text for w in words) for text in errors), (
        "no ERROR message with %r among %r; stderr:\n%s" % (words, errors, result.stderr[-2000:]))


def searchinfo(args, command, dispatch_dir, **extra):
    """getinfo's searchinfo as splunkd sends it (``search`` URL-encoded)."""
    search = "| " + command + (" " + " ".join(args) if args else "")
    info = {
        "args": list(args),
        "raw_args": list(args),
        "dispatch_dir": dispatch_dir,
        "sid": "1794528000.%d" % os.getpid(),
        "app": "TA-claw-runtime",
        "owner": "admin",
        "username": "admin",
        "session_key": "not-a-real-session-key",
        "splunkd_uri": "https://127.0.0.1:8089",
        "splunk_version": "9.3.0",
        "search": quote(search, safe=""),
        "command": command,
        "maxresultrows": 50000,
        "earliest_time": "0",
        "latest_time": "0",
    }
    info.update(extra)
    return info


class _Process(object):
    """The command as a subprocess, its stderr drained to a temporary file."""

    def __init__(self, python, script, env):
        self.proc = subprocess.Popen(
            [python, script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, cwd=os.path.dirname(script), env=env)
        self.err_file = tempfile.TemporaryFile()
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()
        self.peak_kb = None
        self.cpu = None
        threading.Thread(target=self._watch_memory, daemon=True).start()

    def _watch_memory(self):
        # VmHWM (peak RSS since exec); wait4's ru_maxrss would also count the
        # driver's own pages shared with the child before exec.
        path = "/proc/%d/status" % self.proc.pid
        while self.proc.returncode is None:
            try:
                with open(path) as handle:
                    for line in handle:
                        if line.startswith("VmHWM:"):
                            self.peak_kb = int(line.split()[1])
            except (OSError, ValueError, IndexError):
                return
            time.sleep(0.01)

    def _drain(self):
        for block in iter(lambda: self.proc.stderr.read(65536), b""):
            self.err_file.write(block)

    def send(self, data):
        """False when the command no longer reads (it exited)."""
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
            return True
        except (BrokenPipeError, OSError):
            return False

    def finish(self, timeout):
        """(returncode, stderr, peak RSS in MB) once the command exited (killed after ``timeout``)."""
        try:
            self.proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        peak = None
        deadline = time.monotonic() + timeout
        try:
            while True:
                pid, status, usage = os.wait4(self.proc.pid, os.WNOHANG)
                if pid:
                    self.proc.returncode = (-os.WTERMSIG(status) if os.WIFSIGNALED(status)
                                            else os.WEXITSTATUS(status))
                    peak = (self.peak_kb or usage.ru_maxrss) / 1024.0  # kB on Linux
                    self.cpu = usage.ru_utime + usage.ru_stime
                    break
                if time.monotonic() > deadline:
                    raise subprocess.TimeoutExpired(self.proc.args, timeout)
                time.sleep(0.005)
        finally:
            if self.proc.returncode is None:
                self.proc.kill()
                self.proc.wait()
            self.thread.join(timeout=5)
            self.err_file.seek(0)
            stderr = self.err_file.read().decode("utf-8", "replace")
            self.err_file.close()
        return self.proc.returncode, stderr, peak


def _take_chunked_idx(records):
    found = []
    for rec in records:
        if CHUNKED_IDX in rec:
            found.append(rec.pop(CHUNKED_IDX))
    return found


def run(script, args=(), chunks=(), python=None, env=None, fieldnames=None,
        bodies=None, timeout=600, dispatch_dir=None, preview=False, preview_chunks=(),
        chunked_idx=None, dispatch_exists=True, **info_extra):
    """Run ``script`` through getinfo and one execute chunk per item of ``chunks``.

    ``chunks`` is a list of record lists; the last one is sent with
    ``finished: true`` (send ``[]`` last for splunkd's header-only final
    chunk; ``[]`` in the middle is a header-only ``finished: false`` chunk).
    ``chunks=None``: a getinfo-only run. ``bodies`` may give pre-encoded CSV
    bodies instead (for benchmarks). ``chunked_idx``: send ``_chunked_idx``
    (default: when getinfo answers ``streaming`` or ``stateful``); the values
    the command returns are in ``Result.chunked_idx``, not in the records.
    ``preview``: getinfo's preview flag; ``preview_chunks``: indexes of the
    chunks sent with ``"preview": true``. ``dispatch_exists=False``: the
    dispatch folder given to the command does not exist.
    Raises :class:`ProtocolError` when the command dies without replying or
    fails without an ERROR message.
    """
    python = python or sys.executable
    command = os.path.splitext(os.path.basename(script))[0]
    own_dir = None
    if dispatch_dir is None:
        own_dir = tempfile.mkdtemp(prefix="scp_dispatch_")
        dispatch_dir = own_dir if dispatch_exists else os.path.join(own_dir, "1794528000.1")
    result = Result()
    start = time.perf_counter()
    proc = _Process(python, script, env)
    problem = None
    try:
        info = searchinfo(args, command, dispatch_dir, **info_extra)
        proc.send(encode_chunk({"action": "getinfo", "preview": bool(preview),
                                "streaming_command_will_restart": False, "searchinfo": info}))
        reply = read_chunk(proc.proc.stdout)
        result.getinfo = reply[0] if reply else None
        if reply is None:
            problem = "no reply to getinfo"
        elif chunks is not None or bodies is not None:
            if chunked_idx is None:
                chunked_idx = reply[0].get("type") in ("streaming", "stateful")
            problem = _execute(proc, result, chunks, bodies, fieldnames, chunked_idx, preview_chunks)
    finally:
        result.returncode, result.stderr, result.peak_rss_mb = proc.finish(timeout)
        result.cpu_seconds = proc.cpu
        result.seconds = time.perf_counter() - start
        if own_dir:
            shutil.rmtree(own_dir, ignore_errors=True)
    if problem is None and result.returncode != 0:
        problem = "exit status %s" % result.returncode
    if problem and not result.errors():
        raise ProtocolError("%s died without an inspector ERROR message (%s); stderr:\n%s"
                            % (command, problem, result.stderr[-3000:]))
    return result


def _execute(proc, result, chunks, bodies, fieldnames, chunked_idx, preview_chunks):
    """Sends the execute chunks; returns what went wrong (a string) or None."""
    count = len(bodies) if bodies is not None else len(chunks)
    columns = None
    for i in range(count):
        if bodies is not None:
            body = bodies[i]
        else:
            records = chunks[i]
            if records:
                columns = list(fieldnames or field_order(records))
            body = records_to_csv(records, columns, chunked_idx, header_only=columns and (
                columns + ([CHUNKED_IDX] if chunked_idx else [])))
        meta = {"action": "execute", "finished": i == count - 1}
        if i in preview_chunks:
            meta["preview"] = True
        result.sent.append(meta)
        if not proc.send(encode_chunk(meta, body)):
            return "it stopped reading before chunk %d" % i
        reply = read_chunk(proc.proc.stdout)
        if reply is None:
            return "no reply to execute chunk %d" % i
        result.replies.append(reply)
        if reply[0].get("finished") and i < count - 1:
            return None  # the command said it is done: splunkd sends nothing more
    return None
