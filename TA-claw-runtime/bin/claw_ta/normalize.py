"""Field normalization of claw-runtime events, for every delivery shape.

This is the Python twin of the search-time extractions in ``default/props.conf``
(tests check both against the same sample events): the offline replay uses it
to see events as Splunk's searches see them.

Shapes (see the log format, section 3):
- raw: the claw JSON object itself (file monitor, Splunk's journald input);
- CRI: ``<time> stdout|stderr P|F <text>`` lines, partials joined (``read_events``);
- Fluent Bit to HEC: claw fields at top level beside ``kubernetes`` (Merge_Log On)
  or the claw JSON as a string in ``log`` (Merge_Log Off);
- Fluent Bit systemd: the claw JSON as a string in ``MESSAGE``.

Values are strings, as Splunk's fields are (``pid`` "4121", ``slsa_level`` "3");
``_time`` is a float (epoch seconds). Absent values are missing keys.
"""
import calendar
import json
import os
import re

# Claw fields that are normalized under their own name (section 1 of the format).
CLAW_FIELDS = (
    "event_type", "verdict", "subject_digest", "subject_name", "material_uri",
    "slsa_level", "policy_name", "reason", "triggering_process_path", "pid",
    "library_path", "library_digest", "image_ref", "image_digest",
    "expected_digest", "observed_digest", "container_id", "agent_id",
)
# Every field the normalization guarantees when the event carries the data.
NORMALIZED_FIELDS = CLAW_FIELDS + ("namespace", "pod", "tier", "dest")
CIM_FIELDS = (
    "action", "process", "process_path", "process_name", "process_hash", "process_id",
    "vendor_product", "signature", "severity", "ids_type", "file_hash",
    "loaded_file", "loaded_file_path",
)
VENDOR_PRODUCT = "Claw Runtime"
PROCESS_EVENTS = ("binary_attestation", "library_load")
ACTIONS = {"Allowed": "allowed", "Denied": "blocked"}

# <pod>_<namespace>_<container>-<64 hex container id>.log (kubelet's naming);
# scenario files may end in .cri.log (the scenario format's suffix for CRI).
CRI_FILE = re.compile(r"(?:^|/)([^/_]+)_([^/_]+)_([^/]+)-([0-9a-f]{64})(?:\.cri)?\.log$")
CRI_LINE = re.compile(r"^(\S+) (stdout|stderr) ([PF]) ?(.*)$", re.S)
SHA256 = re.compile(r"sha256:[0-9a-f]{64}")


def parse_time(text):
    """Epoch seconds (float) from RFC 3339 ``2026-11-20T14:03:22.123456789Z``."""
    text = text.strip()
    base = calendar.timegm((int(text[0:4]), int(text[5:7]), int(text[8:10]),
                            int(text[11:13]), int(text[14:16]), int(text[17:19]), 0, 0, 0))
    rest = text[19:]
    frac = 0.0
    if rest.startswith((".", ",")):
        end = 1
        while end < len(rest) and rest[end].isdigit():
            end += 1
        frac = float("0." + rest[1:end]) if end > 1 else 0.0
        rest = rest[end:]
    if rest and rest not in ("Z", "z"):
        sign = -1 if rest[0] == "-" else 1
        hours, minutes = int(rest[1:3]), int(rest[-2:])
        base -= sign * (hours * 3600 + minutes * 60)
    return base + frac


def _text(value):
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def _inner(value):
    """The claw object carried as a JSON string (``log`` / ``MESSAGE``), else None."""
    if isinstance(value, str) and value.lstrip().startswith("{"):
        try:
            obj = json.loads(value)
        except ValueError:
            return None
        return obj if isinstance(obj, dict) else None
    return None


def _first(*values):
    """The first value that is not null or empty, as text (SPL coalesce)."""
    for value in values:
        text = _text(value)
        if text is not None:
            return text
    return None


def _layered(layers, name):
    """A claw field from the record itself, else from the JSON in ``log`` / ``MESSAGE``."""
    for layer in layers:
        text = _text(layer.get(name))
        if text is not None:
            return text
    return None


def _basename(path):
    return path.rsplit("/", 1)[-1] if path else None


def normalize(record, source=None, host=None):
    """Normalized fields of one parsed record, in any delivery shape (see module doc).

    ``source`` is the file the event came from (a CRI file name supplies
    namespace, pod and container id when the event lacks them); ``host`` is
    Splunk's host (HEC payload host), the last resort for ``dest``.
    """
    layers = [record]
    for key in ("log", "MESSAGE"):
        inner = _inner(record.get(key))
        if inner is not None:
            layers.append(inner)
    out = {}
    # Pass every claw field through, outer shape first (like KV_MODE=json).
    for layer in reversed(layers):
        for key, value in layer.items():
            if key in ("log", "MESSAGE", "kubernetes"):
                continue
            text = _text(value)
            if text is not None:
                out[key] = text
    for name in CLAW_FIELDS:
        text = _layered(layers, name)
        if text is None:
            out.pop(name, None)
        else:
            out[name] = text
    kube = record.get("kubernetes") if isinstance(record.get("kubernetes"), dict) else {}
    labels = kube.get("labels") if isinstance(kube.get("labels"), dict) else {}
    cri = CRI_FILE.search(source) if source else None
    found = {
        "namespace": _first(kube.get("namespace_name"), _layered(layers, "k8s_namespace"), cri and cri.group(2)),
        "pod": _first(kube.get("pod_name"), _layered(layers, "k8s_pod"), cri and cri.group(1)),
        "tier": _first(labels.get("tier")),
        "dest": _first(kube.get("host"), _layered(layers, "host"), record.get("_HOSTNAME"), host),
        "image_ref": _first(out.get("image_ref"), kube.get("container_image")),
        "container_id": _first(out.get("container_id"), kube.get("docker_id"), cri and cri.group(4)),
    }
    if "image_digest" not in out:
        match = SHA256.search(_text(kube.get("container_hash")) or "")
        found["image_digest"] = match.group(0) if match else None
    for key, value in found.items():
        if value is not None:
            out[key] = value
    if out.get("dest"):
        out["host"] = out["dest"]
    _add_cim(out)
    if "timestamp" in out:
        try:
            out["_time"] = parse_time(out["timestamp"])
        except (ValueError, IndexError):
            out["time_error"] = "unparsable timestamp"
    return out


def _add_cim(out):
    """CIM fields: Endpoint.Processes, Intrusion_Detection, library loads."""
    event_type = out.get("event_type")
    verdict = out.get("verdict")
    out["vendor_product"] = VENDOR_PRODUCT
    if verdict in ACTIONS:
        out["action"] = ACTIONS[verdict]
    if event_type in PROCESS_EVENTS:
        path = out.get("triggering_process_path")
        if path:
            out["process"] = out["process_path"] = path
            out["process_name"] = _basename(path)
        if "pid" in out:
            out["process_id"] = out["pid"]
        if "subject_digest" in out:
            out["process_hash"] = out["subject_digest"]
    if event_type == "library_load" and out.get("library_path"):
        out["loaded_file_path"] = out["library_path"]
        out["loaded_file"] = _basename(out["library_path"])
    if event_type == "manifest_digest_mismatch":
        out.update(signature="Claw manifest digest mismatch", severity="high", ids_type="host")
        if "observed_digest" in out:
            out["file_hash"] = out["observed_digest"]
    elif verdict == "Denied":
        policy = out.get("policy_name")
        out["signature"] = "Claw attestation denied: " + policy if policy else "Claw attestation denied"
        out.update(severity="high", ids_type="host")
        if "subject_digest" in out:
            out["file_hash"] = out["subject_digest"]


def normalize_text(text, source=None, host=None):
    """Normalize one raw JSON text; a line that is not a JSON object gives ``parse_error``."""
    try:
        obj = json.loads(text)
        error = None if isinstance(obj, dict) else "not a JSON object"
    except ValueError as exc:
        error = "not JSON: %s" % exc
    if error:
        # Still an event: what the file name and host tell, as Splunk keeps it.
        out = normalize({}, source=source, host=host)
        out.update(_raw=text, parse_error=error)
        if source:
            out["source"] = source
        return out
    return normalize(obj, source=source, host=host)


def _read_cri(handle, path):
    parts = []
    for line in handle:
        line = line.rstrip("\r\n")
        if not line:
            continue
        match = CRI_LINE.match(line)
        if not match:
            yield {"_raw": line, "parse_error": "not a CRI log line", "source": path}
            continue
        parts.append(match.group(4))
        if match.group(3) == "F":
            yield normalize_text("".join(parts), source=path)
            parts = []
    if parts:
        yield {"_raw": "".join(parts), "parse_error": "CRI partial line without its closing F line",
               "source": path}


def _read_hec(handle, path):
    for line in handle:
        line = line.strip()
        if not line:
            continue
        try:
            payload = json.loads(line)
        except ValueError as error:
            yield {"_raw": line, "parse_error": "not JSON: %s" % error, "source": path}
            continue
        event = payload.get("event") if isinstance(payload, dict) else None
        source = payload.get("source") or path if isinstance(payload, dict) else path
        host = payload.get("host") if isinstance(payload, dict) else None
        if isinstance(event, dict):
            out = normalize(event, source=source, host=host)
        elif isinstance(event, str):
            out = normalize_text(event, source=source, host=host)
        else:
            yield {"_raw": line, "parse_error": "HEC payload without an event", "source": path}
            continue
        if "_time" not in out and isinstance(payload.get("time"), (int, float)):
            out["_time"] = float(payload["time"])
        yield out


def _read_lines(handle, path):
    for line in handle:
        line = line.strip()
        if line:
            yield normalize_text(line, source=path)


def read_events(path):
    """Normalized events of one scenario events file, chosen by suffix, in file order."""
    name = os.path.basename(path)
    with open(path, encoding="utf-8", errors="replace") as handle:
        if name.endswith(".cri.log"):
            reader = _read_cri
        elif name.endswith(".hec.jsonl"):
            reader = _read_hec
        else:  # *.jsonl raw lines, *.journal.jsonl Fluent Bit systemd records
            reader = _read_lines
        for event in reader(handle, path):
            yield event
