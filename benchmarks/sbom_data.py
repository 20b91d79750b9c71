"""Synthetic input for bench_sbomcheck.py: SBOM documents, their tables and splunkd-like chunks.

Deterministic (seeded). Image SBOMs list files with SHA-256 from a shared pool
of libraries (as images share base layers). Chunks come in two shapes:
``narrow`` (6 fields) and ``wide`` (events normalized with ``claw_ta_tools.normalize``
plus the fields splunkd sends, padded to 60 fields), each field with its
``__mv_`` twin column, a share of library loads, and a number of distinct
subjects per chunk.
"""
import hashlib
import json
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "TA-claw-runtime", "bin"))
sys.path.insert(0, os.path.join(REPO, "tools"))
sys.path.insert(0, REPO)

from claw_ta_tools.normalize import normalize  # noqa: E402
from claw_ta.sbom.index import Tables  # noqa: E402
from claw_ta.sbom.model import Entry, SbomDocument  # noqa: E402
from claw_ta_tools.emulators.scp_driver import field_order, records_to_csv  # noqa: E402

DIRS = ("/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64", "/lib", "/usr/local/lib")


def _sha(text):
    return hashlib.sha256(text.encode()).hexdigest()


def library_pool(pool=4000, seed=7):
    rnd = random.Random(seed)
    libraries = []
    for i in range(pool):
        name = "lib%s%d.so.%d" % (rnd.choice(("ssl", "crypto", "z", "ffi", "pcre", "xml2", "curl")), i, rnd.randint(0, 9))
        libraries.append((rnd.choice(DIRS) + "/" + name, _sha("lib%d" % i), "pkg%d" % (i % 900)))
    return libraries


def documents(count, libs_per_subject=60, pool=4000, seed=7):
    """Yield (subject hex, [(path, digest, package)], SbomDocument) for ``count`` image SBOMs."""
    rnd = random.Random(seed)
    libraries = library_pool(pool, seed)
    for s in range(count):
        digest = _sha("subject%d" % s)
        libs = rnd.sample(libraries, libs_per_subject)
        yield digest, libs, SbomDocument("cyclonedx", "urn:uuid:%08d" % s, [digest], [
            Entry(path, lib, pkg, "1.%d" % (s % 7), "pkg:deb/debian/%s@1.0" % pkg) for path, lib, pkg in libs],
            subject_kinds={digest: "manifest"})


def make_index(rows=120000, libs_per_subject=60, spill=None):
    """(Tables, subjects) with about ``rows`` library rows; subjects = [(sha256:hex, libs)]."""
    tables = Tables() if spill is None else Tables(spill)
    subjects = []
    for digest, libs, doc in documents(max(1, rows // libs_per_subject), libs_per_subject):
        tables.add(doc)
        subjects.append(("sha256:" + digest, libs))
    return tables, subjects


def make_events(count, subjects, seed=11, loads=0.8):
    """Wide events: ``loads`` of them library loads of the given subjects."""
    rnd = random.Random(seed)
    events = []
    for i in range(count):
        digest, libs = rnd.choice(subjects)
        roll = 0.0 if rnd.random() < loads else (0.85 if rnd.random() < 0.5 else 0.95)
        base = {
            "timestamp": "2026-11-20T14:03:%02d.%09dZ" % (i % 60, i),
            "event_id": "%08x-0000-4000-8000-%012x" % (i, i), "agent_id": "claw-node-%d" % (i % 40),
            "runtime_version": "1.8.2", "host": "node-%d" % (i % 40), "subject_digest": digest,
            "subject_name": "/usr/local/bin/svc%d" % (i % 50),
            "material_uri": "oci://registry.example.com/svc@" + digest,
            "triggering_process_path": "/usr/local/bin/svc%d" % (i % 50), "pid": 1000 + i % 5000,
            "container_id": _sha("c%d" % (i % 300)), "image_ref": "registry.example.com/svc:1.%d" % (i % 9),
            "image_digest": "sha256:" + _sha("image%d" % (i % 300)),
        }
        if roll < 0.8:
            path, lib_digest, _ = rnd.choice(libs)
            if rnd.random() < 0.1:
                path = "/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/%d/fs%s" % (i % 90, path)
            if rnd.random() < 0.02:
                lib_digest = _sha("swapped%d" % i)
            base.update(event_type="library_load", library_path=path, library_digest="sha256:" + lib_digest)
        elif roll < 0.9:
            base.update(event_type="binary_attestation", verdict="Allowed", slsa_level=3, policy_name="prod-baseline")
        else:
            base.update(event_type="agent_heartbeat")
        raw = json.dumps(base, separators=(",", ":"))
        record = normalize(base)
        record.update(_raw=raw, _time="%.9f" % record.get("_time", 0), source="/var/log/claw/runtime.log",
                      sourcetype="claw:runtime", index="claw", splunk_server="idx-1", linecount="1",
                      eventtype=["claw_runtime", "claw_" + base["event_type"]],
                      tag=["attestation", "process", "report"] if roll >= 0.8 else ["library"],
                      _cd="12:%d" % i, _bkt="claw~12~ABCD", _serial=str(i), _si=["idx-1", "claw"],
                      _sourcetype="claw:runtime", _kv="1", _indextime=str(1763647402 + i))
        events.append(record)
    return events


def make_narrow(count, subjects, seed=11, loads=0.8):
    """Narrow events (6 fields): _time, host, event_type, image_digest, library_path, library_digest."""
    rnd = random.Random(seed)
    events = []
    for i in range(count):
        digest, libs = rnd.choice(subjects)
        event = {"_time": "%d.%06d" % (1763647402 + i, i), "host": "node-%d" % (i % 40)}
        if rnd.random() < loads:
            path, lib_digest, _ = rnd.choice(libs)
            if rnd.random() < 0.02:
                lib_digest = _sha("swapped%d" % i)
            event.update(event_type="library_load", image_digest=digest, library_path=path,
                         library_digest="sha256:" + lib_digest)
        else:
            event.update(event_type="agent_heartbeat", image_digest="", library_path="", library_digest="")
        events.append(event)
    return events


def pad_wide(events, width=60):
    """Add filler fields (as extracted fields would be) up to ``width`` plain fields."""
    names = fieldnames(events)
    extra = ["x_field_%02d" % i for i in range(max(0, width - len(names)))]
    for n, event in enumerate(events):
        for i, name in enumerate(extra):
            event[name] = "value-%d-%d" % (i, n % 97)
    return events


def make_body(shape, chunk_size, subjects, distinct, loads, seed=11):
    """One chunk body (bytes) and its field count: ``distinct`` subjects, ``loads`` share of loads."""
    chosen = random.Random(seed).sample(subjects, min(distinct, len(subjects)))
    if shape == "narrow":
        events = make_narrow(chunk_size, chosen, seed, loads)
    else:
        events = pad_wide(make_events(chunk_size, chosen, seed, loads))
    names = fieldnames(events)
    return records_to_csv(events, names), len(names)


fieldnames = field_order  # every field of the events, in first-seen order

# --- the shapes compared with the splunklib pass-through (bench_sbomcheck.py --only passthrough) --------

NARROW7 = ("_time", "host", "event_type", "subject_digest", "image_digest", "library_path", "library_digest")
WIDE20 = ("_raw", "_time", "host", "source", "sourcetype", "index", "splunk_server", "eventtype", "tag",
          "event_type", "event_id", "agent_id", "subject_digest", "subject_name", "container_id", "image_ref",
          "image_digest", "library_path", "library_digest", "pid")


def narrow7(count, subjects, seed=11):
    """What the unlisted rule hands the command (``| fields`` or ``stats ... by``): 7 fields, every
    record a library load, every subject in ``subjects`` named (round robin: all of them in the first
    ``len(subjects)`` records), each image's main binary its own subject_digest."""
    rnd = random.Random(seed)
    events = []
    for i in range(count):
        digest, libs = subjects[i % len(subjects)]
        path, lib_digest, _ = rnd.choice(libs)
        if rnd.random() < 0.02:
            lib_digest = _sha("swapped%d" % i)
        events.append({"_time": "%d.%06d" % (1763647402 + i, i), "host": "node-%d" % (i % 400),
                       "event_type": "library_load", "subject_digest": "sha256:" + _sha("bin" + digest),
                       "image_digest": digest, "library_path": path, "library_digest": "sha256:" + lib_digest})
    return events


def wide20(count, subjects, seed=11):
    """Raw events as a search returns them, cut to 20 fields (60% library loads)."""
    events = make_events(count, subjects, seed, loads=0.6)
    return [dict((name, event.get(name, "")) for name in WIDE20) for event in events]


def newline_heavy(count, subjects, seed=11, values=64):
    """Narrow records plus a multivalue ``subject_name`` of ``values`` paths (the unlisted rule's
    ``values(subject_name)`` after a binary ran through many hard-link paths): the plain column holds
    them joined by newlines, quoted, and the ``__mv_`` twin the ``$a$;$b$`` form."""
    events = narrow7(count, subjects, seed)
    for i, event in enumerate(events):
        event["subject_name"] = ["/opt/app/bin/link-%d-%d" % (i % 97, n) for n in range(values)]
    return events


def passthrough_body(shape, count, subjects, seed=11):
    """(CSV body as splunkd sends a streaming command, with _chunked_idx; its number of fields)."""
    events = {"narrow": narrow7, "wide": wide20, "newline": newline_heavy}[shape](count, subjects, seed)
    names = field_order(events)
    return records_to_csv(events, names, chunked_idx=True), len(names)


__all__ = ["documents", "make_index", "make_events", "make_narrow", "make_body", "passthrough_body"]
