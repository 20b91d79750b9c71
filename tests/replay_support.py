"""Building small scenario directories for the replay/evaluate tests."""
import itertools
import json
import os

D_APP = "sha256:" + "a" * 64
D_LIB = "sha256:" + "d" * 64
IMG = "sha256:" + "b" * 64
IMG2 = "sha256:" + "c" * 64
_ids = itertools.count()


def ev(ts, event_type, host="node-1", **fields):
    """A raw claw event at ``ts`` (``HH:MM:SS`` on 2026-11-20, or a full RFC 3339 time)."""
    if len(ts) <= 8:
        ts = "2026-11-20T%sZ" % ts
    out = {"timestamp": ts, "event_id": "e-%d" % next(_ids), "event_type": event_type,
           "agent_id": "claw-" + host, "runtime_version": "1.8.2", "host": host}
    out.update(fields)
    return out


def lib(ts, path, namespace="payments", pod="api-1", **fields):
    base = dict(subject_digest=D_APP, subject_name="/usr/bin/api", triggering_process_path="/usr/bin/api",
                library_path=path, library_digest=D_LIB, image_digest=IMG,
                image_ref="registry.example.com/payments/api:1.0", k8s_namespace=namespace, k8s_pod=pod)
    base.update(fields)
    return ev(ts, "library_load", **base)


def make_scenario(root, name, events, lookups=None, sboms=None, expected=None,
                  detect_from="2026-11-20T12:00:00Z", detect_to="2026-11-20T13:00:00Z", raw_files=None):
    """Write a scenario directory; ``lookups``/``sboms``: {filename: text}; returns its path."""
    path = os.path.join(str(root), name)
    os.makedirs(os.path.join(path, "events"))
    with open(os.path.join(path, "scenario.json"), "w") as handle:
        json.dump({"name": name, "detect_from": detect_from, "detect_to": detect_to}, handle)
    with open(os.path.join(path, "events", "events.jsonl"), "w") as handle:
        for event in events:
            handle.write(json.dumps(event) + "\n")
    for filename, text in (raw_files or {}).items():
        with open(os.path.join(path, "events", filename), "w") as handle:
            handle.write(text)
    for folder, files in (("lookups", lookups), ("sboms", sboms)):
        if files:
            os.makedirs(os.path.join(path, folder))
            for filename, text in files.items():
                with open(os.path.join(path, folder, filename), "w") as handle:
                    handle.write(text)
    if expected is not None:
        with open(os.path.join(path, "expected.jsonl"), "w") as handle:
            for line in expected:
                handle.write(json.dumps(line) + "\n")
    return path


def alerts_of(path, **kwargs):
    from claw_ta_tools.detections import engine
    return engine.replay(path, **kwargs).alerts


def ids(alerts):
    return sorted(a["detection_id"] for a in alerts)
