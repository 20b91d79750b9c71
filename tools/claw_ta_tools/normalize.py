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
``_time_ns`` is the time in integer nanoseconds (what the replay compares) and
``_time`` the float epoch seconds Splunk keeps (truncated to microseconds).
Absent values are missing keys.
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
# Every field the normalization guarantees when the event carries the data:
# the workload (namespace, pod, tier: claw's k8s_namespace, k8s_pod and
# k8s_labels.tier) and the sensor that wrote
# the event (sensor_namespace, sensor_pod: Fluent Bit's `kubernetes` object or
# the CRI file name, which describe the claw-runtime pod, never the workload).
NORMALIZED_FIELDS = CLAW_FIELDS + ("namespace", "pod", "tier", "dest", "sensor_namespace", "sensor_pod")
CIM_FIELDS = (
    "action", "process", "process_path", "process_name", "process_hash", "process_id",
    "vendor_product", "signature", "severity", "ids_type", "file_hash",
    "loaded_file", "loaded_file_path",
)
VENDOR_PRODUCT = "Claw Runtime"
PROCESS_EVENTS = ("binary_attestation", "library_load")
ACTIONS = {"Allowed": "allowed", "Denied": "blocked"}
WRAPPERS = ("log", "MESSAGE", "kubernetes")  # keys of a delivery shape, not claw fields

# <pod>_<namespace>_<container>-<64 hex container id>.log (kubelet's naming);
# scenario files may end in .cri.log (the scenario format's suffix for CRI).
CRI_FILE = re.compile(r"(?:^|/)([^/_]+)_([^/_]+)_([^/]+)-([0-9a-f]{64})(?:\.cri)?\.log$")
CRI_LINE = re.compile(r"^(\S+) (stdout|stderr) ([PF]) ?(.*)$", re.S)
RFC3339 = re.compile(r"(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:[.,](\d+))?([Zz]|[+-]\d\d:?\d\d)?$")
NS = 1000000000
_SECONDS = {}  # "YYYY-MM-DDTHH:MM:SS" -> epoch seconds (events share their seconds)
_SCALE = tuple(10 ** (9 - n) for n in range(10))  # n fraction digits -> nanoseconds per unit


def parse_time_ns(text):
    """Integer epoch nanoseconds from RFC 3339 ``2026-11-20T14:03:22.123456789Z``.

    Integers, because a float cannot hold nanoseconds: 12:59:59.999999999
    would become 13:00:00 and leave a window that ends at 13:00. Digits past
    the ninth are dropped. Raises ValueError on anything else.
    """
    head = text[:19]
    seconds = _SECONDS.get(head)
    if seconds is not None and text[-1:] == "Z":  # the common case: "....SS.fffZ" / "....SSZ"
        frac = text[20:-1]
        if text[19:20] == "." and frac.isdigit() and len(frac) <= 9:
            return seconds * NS + int(frac) * _SCALE[len(frac)]
        if len(text) == 20:
            return seconds * NS
    text = text.strip()
    head = text[:19]
    seconds = _SECONDS.get(head)
    rest = text[19:]
    if seconds is None or not (rest == "Z" or rest[:1] == "." and rest[-1:] == "Z" and rest[1:-1].isdigit()):
        match = RFC3339.match(text)
        if not match:
            raise ValueError("not an RFC 3339 time: %r" % text[:64])
        g = match.groups()
        seconds = calendar.timegm((int(g[0]), int(g[1]), int(g[2]), int(g[3]), int(g[4]), int(g[5]), 0, 0, 0))
        zone = g[7]
        if zone and zone not in ("Z", "z"):
            sign = -1 if zone[0] == "-" else 1
            seconds -= sign * (int(zone[1:3]) * 3600 + int(zone[-2:]) * 60)
        elif len(_SECONDS) < 100000:
            _SECONDS[head] = seconds
        frac = g[6] or ""
    else:
        frac = rest[1:-1]
    return seconds * NS + (int((frac + "00000000")[:9]) if frac else 0)


def ns_to_time(ns):
    """Splunk's _time (float epoch seconds) of integer nanoseconds, truncated to microseconds.

    Distinct microseconds stay distinct and ordered as floats near 2026
    (doubles there are spaced 0.24 us apart); truncation never moves an
    event into the next second, as rounding 9 digits through a float did.
    """
    return (ns // 1000) / 1000000.0


def parse_time(text):
    """Epoch seconds (float, truncated to microseconds) of an RFC 3339 time."""
    return ns_to_time(parse_time_ns(text))


def hec_time_ns(value):
    """Integer nanoseconds of a HEC envelope ``time`` (number or numeric string), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value * NS
    if isinstance(value, float):
        return int(round(value * 1000000)) * 1000 if value == value and abs(value) < 1e11 else None
    if isinstance(value, str):
        whole, _, frac = value.strip().partition(".")
        if whole.isdigit() and (frac == "" or frac.isdigit()):
            return int(whole) * NS + (int((frac + "00000000")[:9]) if frac else 0)
    return None


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


def _copy(layer, out):
    """Every field of one layer as text (KV_MODE=json), the delivery wrappers left out."""
    for key, value in layer.items():
        if type(value) is str:
            if value:
                out[key] = value
        elif value is not None and key not in WRAPPERS:
            text = _text(value)
            if text is not None:
                out[key] = text
    for key in WRAPPERS:
        if key in out:
            del out[key]


def _basename(path):
    return path.rsplit("/", 1)[-1] if path else None


_SENSOR_FILES = {}  # source -> (pod, namespace) or None: one file, many events


def _sensor_from_file(source):
    """(pod, namespace) named by a CRI file name, else None."""
    match = CRI_FILE.search(source)
    found = (match.group(1), match.group(2)) if match else None
    if len(_SENSOR_FILES) < 10000:
        _SENSOR_FILES[source] = found
    return found


def normalize(record, source=None, host=None, cim=True, own=False):
    """Normalized fields of one parsed record, in any delivery shape (see module doc).

    ``source`` is the file the event came from (a CRI file name names the
    sensor pod that wrote it); ``host`` is Splunk's host (HEC payload host),
    the last resort for ``dest``. ``cim=False`` leaves out the CIM fields
    (the replay's detections do not read them); ``own=True`` lets a record the
    caller no longer needs become the result (no copy).
    """
    kube = record.get("kubernetes")
    tier = record.get("tier")
    pod_labels = record.get("k8s_labels")  # the workload pod's labels, as the sensor read them
    hostname = record.get("_HOSTNAME")
    if "log" in record or "MESSAGE" in record:
        # Every field, outer shape last so that it wins (as KV_MODE=json plus the
        # coalesce() of props.conf: the record, then `log`, then `MESSAGE`).
        out = {}
        for key in ("MESSAGE", "log"):
            inner = _inner(record.get(key))
            if inner is not None:
                _copy(inner, out)
                if pod_labels is None:
                    pod_labels = inner.get("k8s_labels")
        _copy(record, out)
    else:
        out = record if own else dict(record)
        # _texts(out), inlined (the replay's hot path)
        bad = [key for key, value in out.items() if value.__class__ is not str or not value]
        if bad or "kubernetes" in out:
            for key in bad:
                value = out[key]
                text = str(value) if value.__class__ is int else None if key in WRAPPERS else _text(value)
                if text is None:
                    del out[key]
                else:
                    out[key] = text
            out.pop("kubernetes", None)
    namespace = out.get("k8s_namespace")
    if namespace is not None:
        out["namespace"] = namespace
    pod = out.get("k8s_pod")
    if pod is not None:
        out["pod"] = pod
    if type(kube) is dict:  # the pod that wrote the line: the sensor (its labels are not the workload's)
        sensor_ns, sensor_pod = _text(kube.get("namespace_name")), _text(kube.get("pod_name"))
        dest = _text(kube.get("host"))
    else:
        sensor_ns = sensor_pod = dest = None
    label = _text(pod_labels.get("tier")) if type(pod_labels) is dict else None
    if source and sensor_ns is None and sensor_pod is None:
        found = _SENSOR_FILES.get(source, False)
        if found is False:
            found = _sensor_from_file(source)
        if found is not None:
            sensor_pod, sensor_ns = found
    if sensor_ns is not None:
        out["sensor_namespace"] = sensor_ns
    if sensor_pod is not None:
        out["sensor_pod"] = sensor_pod
    # tier: the workload pod's `tier` label (k8s_labels.tier of the claw event), else a
    # top-level tier field (props.conf EVAL-tier).
    tier = label or _text(tier)
    if tier is not None:
        out["tier"] = tier
    elif "tier" in out:
        del out["tier"]
    dest = dest or out.get("host") or _text(hostname) or host
    if dest:
        out["dest"] = out["host"] = dest
    if cim:
        _add_cim(out)
    stamp = out.get("timestamp")
    if stamp is not None:
        try:
            ns = parse_time_ns(stamp)
        except ValueError:
            out["time_error"] = "unparsable timestamp"
        else:
            out["_time_ns"] = ns
            out["_time"] = (ns // 1000) / 1000000.0  # ns_to_time, inlined
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


_DECODE = json.JSONDecoder().raw_decode


def normalize_text(text, source=None, host=None, cim=True):
    """Normalize one raw JSON text; a line that is not a JSON object gives ``parse_error``."""
    try:
        if text[:1] in " \t\r\n":
            text = text.lstrip()
        obj, end = _DECODE(text)  # json.loads without its wrappers (the replay's hot path)
        if end != len(text) and text[end:].strip():
            raise ValueError("Extra data after the JSON value (char %d)" % end)
        error = None if type(obj) is dict else "not a JSON object"
    except ValueError as exc:
        error = "not JSON: %s" % exc
    if error:
        # Still an event: what the file name and host tell, as Splunk keeps it.
        out = normalize({}, source=source, host=host, cim=cim)
        out.update(_raw=text, parse_error=error)
        if source:
            out["source"] = source
        return out
    return normalize(obj, source=source, host=host, cim=cim, own=True)


def _read_cri(handle, path, cim=True):
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
            yield normalize_text("".join(parts), source=path, cim=cim)
            parts = []
    if parts:
        yield {"_raw": "".join(parts), "parse_error": "CRI partial line without its closing F line",
               "source": path}


def _read_hec(handle, path, cim=True):
    """HEC event payloads. _time as Splunk sets it with the shipped settings: the
    claw timestamp (transforms.conf claw_runtime_time), else the envelope time."""
    for line in handle:
        line = line.strip()
        if not line:
            continue
        try:
            payload = json.loads(line)
        except ValueError as error:
            yield {"_raw": line, "parse_error": "not JSON: %s" % error, "source": path}
            continue
        if not isinstance(payload, dict):
            yield {"_raw": line, "parse_error": "HEC payload is not a JSON object", "source": path}
            continue
        event = payload.get("event")
        source = payload.get("source") or path
        host = payload.get("host")
        if isinstance(event, dict):
            out = normalize(event, source=source, host=host, cim=cim)
        elif isinstance(event, str):
            out = normalize_text(event, source=source, host=host, cim=cim)
        else:
            yield {"_raw": line, "parse_error": "HEC payload without an event", "source": path}
            continue
        if "_time_ns" not in out:
            ns = hec_time_ns(payload.get("time"))
            if ns is not None:
                out["_time_ns"] = ns
                out["_time"] = ns_to_time(ns)
        yield out


def _read_lines(handle, path, cim=True):
    for line in handle:
        line = line.strip()
        if line:
            yield normalize_text(line, source=path, cim=cim)


def read_events(path, cim=True):
    """Normalized events of one scenario events file, chosen by suffix, in file order."""
    name = os.path.basename(path)
    with open(path, encoding="utf-8", errors="replace") as handle:
        if name.endswith(".cri.log"):
            reader = _read_cri
        elif name.endswith(".hec.jsonl"):
            reader = _read_hec
        else:  # *.jsonl raw lines, *.journal.jsonl Fluent Bit systemd records
            reader = _read_lines
        yield from reader(handle, path, cim)
