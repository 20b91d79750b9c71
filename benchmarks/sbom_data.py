"""Synthetic input for bench_sbomcheck.py: an SBOM library index and splunkd-like chunks.

Deterministic (seeded). The index has ``subjects`` binaries sharing a pool of
libraries (as images share base layers); events are normalized with
``claw_ta.normalize`` and carry the fields splunkd sends (``_raw``, ``_time``,
``host``, ``source``, ``sourcetype``, ``tag``/``eventtype`` multivalues, ...),
each with its ``__mv_`` twin column.
"""
import hashlib
import json
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "TA-claw-runtime", "bin"))
sys.path.insert(0, REPO)

from claw_ta.normalize import normalize  # noqa: E402
from claw_ta.sbom.index import COLUMNS, write_csv  # noqa: E402
from claw_ta.sbom.paths import normalize_path  # noqa: E402
from tests.scp_driver import records_to_csv  # noqa: E402

DIRS = ("/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64", "/lib", "/usr/local/lib")


def _sha(text):
    return hashlib.sha256(text.encode()).hexdigest()


def make_index(rows=120000, libs_per_subject=60, pool=4000, seed=7):
    """(rows, subjects) with ``subjects`` = list of (digest, [(path, digest)])."""
    rnd = random.Random(seed)
    libraries = []
    for i in range(pool):
        name = "lib%s%d.so.%d" % (rnd.choice(("ssl", "crypto", "z", "ffi", "pcre", "xml2", "curl")), i, rnd.randint(0, 9))
        path = rnd.choice(DIRS) + "/" + name
        libraries.append((path, _sha("lib%d" % i), "pkg%d" % (i % 900)))
    out, subjects = [], []
    n_subjects = max(1, rows // libs_per_subject)
    for s in range(n_subjects):
        digest = "sha256:" + _sha("subject%d" % s)
        libs = rnd.sample(libraries, libs_per_subject)
        subjects.append((digest, libs))
        for path, lib_digest, pkg in libs:
            out.append({"subject_digest": digest, "library_path": path,
                        "library_digest": "sha256:" + lib_digest, "package_name": pkg,
                        "package_version": "1.%d" % (s % 7), "purl": "pkg:deb/debian/%s@1.0" % pkg,
                        "sbom_format": "cyclonedx", "sbom_ref": "urn:uuid:%08d" % s})
    for row in out:
        row["library_path"] = normalize_path(row["library_path"])
    return out[:rows], subjects


def make_events(count, subjects, seed=11):
    rnd = random.Random(seed)
    events = []
    for i in range(count):
        digest, libs = rnd.choice(subjects)
        roll = rnd.random()
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


def fieldnames(events):
    names, seen = [], set()
    for rec in events:
        for key in rec:
            if key not in seen:
                seen.add(key)
                names.append(key)
    return names


def make_bodies(chunks, chunk_size, subjects):
    events = make_events(chunk_size, subjects)
    names = fieldnames(events)
    body = records_to_csv(events, names)
    return [body] * chunks, names


def write_index(rows, path):
    write_csv(rows, path)
    return path


__all__ = ["COLUMNS", "make_index", "make_events", "make_bodies", "write_index"]
