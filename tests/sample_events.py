"""Builds the sample events of tests/data/samples/*.xml (pytest-splunk-addon format).

Every case (event type, malformed line, oversized event) in every delivery
shape, each with the field values Splunk's search-time extraction must give.
The XML files are the data (committed, read by ``tests/samples.py`` and by
pytest-splunk-addon); this module is how they were made. Regenerate with::

    python -m tests.sample_events

``tests/test_samples.py`` checks the committed files are what this writes and,
independently of this module, that each expected value follows from the raw.
"""
import json
import os
import uuid
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLES_DIR = os.path.join(HERE, "data", "samples")

SHAPES = ("raw", "cri", "hec_merged", "hec_log", "journald", "fluentbit_systemd")
FILES = {shape: "claw_%s.xml" % shape for shape in SHAPES}
EVENT_ID_NAMESPACE = uuid.UUID("5b0c6f5e-7c1d-4c55-9d8e-c1a000000000")
# Total size of the oversized claw JSON line: close to, but under, props TRUNCATE.
OVERSIZED_BYTES = 250000
CRI_PARTIAL_BYTES = 16384  # the container runtime splits lines at 16 KiB

CIM_FIELD_NAMES = (
    "action", "dest", "process", "process_path", "process_name", "process_hash",
    "process_id", "vendor_product", "signature", "severity", "ids_type", "file_hash",
    "loaded_file", "loaded_file_path",
)
NORMALIZED = (
    "event_type", "verdict", "subject_digest", "subject_name", "material_uri", "slsa_level",
    "policy_name", "reason", "triggering_process_path", "pid", "library_path", "library_digest",
    "image_ref", "image_digest", "expected_digest", "observed_digest", "container_id",
    "namespace", "pod", "tier", "dest", "agent_id", "sensor_namespace", "sensor_pod",
)


def _sha(seed):
    """A stable, realistic sha256 hex digest named by ``seed``."""
    import hashlib
    return hashlib.sha256(seed.encode("utf-8")).hexdigest()


APP_DIGEST = "sha256:" + _sha("payments-api binary")
IMAGE_DIGEST = "sha256:" + _sha("payments/api:1.4.0 manifest")
WORKLOAD_CONTAINER = _sha("payments-api container")
WORKLOAD = {
    "container_id": WORKLOAD_CONTAINER,
    "image_ref": "registry.example.com/payments/api:1.4.0",
    "image_digest": IMAGE_DIGEST,
}
# The workload pod (the claw event's own fields; the sensor read them from the pod spec).
K8S = {"k8s_namespace": "payments", "k8s_pod": "payments-api-7d9f8b6c5-x2x7k",
       "k8s_labels": {"app": "payments-api", "tier": "backend", "pod-template-hash": "7d9f8b6c5"}}
# The node the sensor runs on (agent_heartbeat on Kubernetes nodes).
NODE_LABELS = {"kubernetes.io/hostname": "node-12", "kubernetes.io/os": "linux",
               "kubernetes.io/arch": "amd64", "node.kubernetes.io/instance-type": "m6i.2xlarge",
               "eks.amazonaws.com/nodegroup": "payments-ng", "tier": "backend"}

# The agent that wrote every sample (the same event is delivered by every shape).
NODE = {"host": "node-12", "agent_id": "claw-node-12"}
CRI_POD, CRI_NAMESPACE, CRI_CONTAINER = "claw-runtime-7xk2p", "claw-system", "claw-runtime"
CRI_ID = _sha("claw-runtime agent container")
CRI_SOURCE = "/var/log/containers/%s_%s_%s-%s.log" % (CRI_POD, CRI_NAMESPACE, CRI_CONTAINER, CRI_ID)
KUBERNETES = {
    "pod_name": CRI_POD,
    "namespace_name": CRI_NAMESPACE,
    "pod_id": "8c0a4f3e-2b6d-4e1f-9a7c-5d3b1e0f2a64",
    "host": "node-12.prod.k8s.example.com",
    "container_name": CRI_CONTAINER,
    "docker_id": CRI_ID,
    "container_hash": "registry.example.com/claw/runtime@sha256:" + _sha("claw/runtime:1.8.2"),
    "container_image": "registry.example.com/claw/runtime:1.8.2",
    "labels": {"app": "claw-runtime", "tier": "platform-security",
               "app.kubernetes.io/name": "claw-runtime", "pod-template-hash": "7xk2p"},
    "annotations": {"kubectl.kubernetes.io/default-container": "claw-runtime",
                    "prometheus.io/scrape": "true"},
}
SHAPE_META = {
    # shape: (sourcetype, source, Splunk host, pytest-splunk-addon input_type)
    "raw": ("claw:runtime", "/var/log/claw-runtime/events.log", "node-12", "file_monitor"),
    "cri": ("claw:runtime:cri", CRI_SOURCE, "node-12", "file_monitor"),
    "hec_merged": ("claw:runtime", "claw-runtime", KUBERNETES["host"], "modinput"),
    "hec_log": ("claw:runtime", "claw-runtime", KUBERNETES["host"], "modinput"),
    "journald": ("claw:runtime", "journald://claw-runtime", NODE["host"], "modinput"),
    "fluentbit_systemd": ("claw:runtime", "claw-runtime:systemd", NODE["host"], "modinput"),
}
SYSTEMD_UNIT = "claw-runtime.service"
# Shapes where the claw fields are top-level JSON keys (unknown ones are extracted too);
# in the others they sit in a JSON string (log / MESSAGE) and only known fields are lifted.
TOP_LEVEL_SHAPES = ("raw", "cri", "hec_merged", "journald")


def _case_events():
    """(case name, claw event without timestamp/event_id/agent/host, time suffix)."""
    yield "binary_attestation_allowed", dict(
        event_type="binary_attestation", verdict="Allowed", subject_digest=APP_DIGEST,
        subject_name="/usr/local/bin/payments-api",
        material_uri="oci://registry.example.com/payments/api@" + IMAGE_DIGEST,
        slsa_level=3, policy_name="prod-baseline",
        triggering_process_path="/usr/local/bin/payments-api", pid=4121, **WORKLOAD), ".123456789Z"
    yield "binary_attestation_denied", dict(
        event_type="binary_attestation", verdict="Denied",
        subject_digest="sha256:" + _sha("dropped miner"), subject_name="/tmp/.cache/kworkerd",
        slsa_level=0, policy_name="prod-baseline",
        reason="no provenance attestation for subject; policy requires SLSA level >= 2",
        triggering_process_path="/tmp/.cache/kworkerd", pid=30877, **WORKLOAD), ".5Z"
    yield "image_attestation_allowed", dict(
        event_type="image_attestation", verdict="Allowed", subject_digest=IMAGE_DIGEST,
        subject_name="registry.example.com/payments/api:1.4.0",
        material_uri="https://attest.example.com/bundles/payments-api-1.4.0.intoto.jsonl",
        slsa_level=3, policy_name="prod-images", **dict(WORKLOAD, **K8S)), ".250Z"
    yield "image_attestation_denied", dict(
        event_type="image_attestation", verdict="Denied",
        subject_digest="sha256:" + _sha("unsigned debug image"),
        subject_name="docker.io/library/busybox:latest", slsa_level=0, policy_name="prod-images",
        reason="image signature not found in trusted registry set",
        container_id=_sha("busybox container"), image_ref="docker.io/library/busybox:latest",
        image_digest="sha256:" + _sha("unsigned debug image"), **K8S), ".000001Z"
    yield "library_load_overlay", dict(
        event_type="library_load", subject_digest=APP_DIGEST,
        subject_name="/usr/local/bin/payments-api",
        material_uri="oci://registry.example.com/payments/api@" + IMAGE_DIGEST,
        triggering_process_path="/usr/local/bin/payments-api", pid=4121,
        library_path="/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/4521"
                     "/fs/usr/lib/x86_64-linux-gnu/libssl.so.3.0.13",
        library_digest="sha256:" + _sha("libssl.so.3.0.13"), **WORKLOAD), ".131002114Z"
    yield "library_load_memfd", dict(
        event_type="library_load", subject_digest="sha256:" + _sha("node binary"),
        subject_name="/usr/local/bin/node", triggering_process_path="/usr/local/bin/node",
        pid=5120, library_path="/memfd:jit-cache (deleted)", **WORKLOAD), ".131002999Z"
    yield "library_load_non_ascii", dict(
        event_type="library_load", subject_digest=APP_DIGEST,
        subject_name="/usr/local/bin/payments-api",
        triggering_process_path="/usr/local/bin/payments-api", pid=4121,
        library_path="/opt/donn\u00e9es/\u5e94\u7528/lib/libcaf\u00e9.so.1",
        library_digest="sha256:" + _sha("libcafe"), **WORKLOAD), ".2Z"
    yield "manifest_digest_mismatch", dict(
        event_type="manifest_digest_mismatch", subject_digest=IMAGE_DIGEST,
        subject_name="registry.example.com/payments/api:1.4.0",
        material_uri="oci://registry.example.com/payments/api@" + IMAGE_DIGEST,
        reason="running manifest digest differs from the digest attested at deployment",
        expected_digest=IMAGE_DIGEST, observed_digest="sha256:" + _sha("tampered manifest"),
        **dict(WORKLOAD, **K8S)), ".777777777Z"
    yield "agent_heartbeat", dict(event_type="agent_heartbeat", k8s_node_labels=NODE_LABELS), "Z"
    yield "unknown_event_type", dict(
        event_type="sbom_drift", drift_count=3, detector="claw-sbom-watch",
        details={"added": ["libfoo.so.2"], "removed": []}, **WORKLOAD), ".424242Z"
    yield "oversized", dict(
        event_type="binary_attestation", verdict="Denied",
        subject_digest="sha256:" + _sha("big binary"), subject_name="/usr/bin/python3.12",
        slsa_level=1, policy_name="prod-baseline", reason="provenance builder not trusted",
        triggering_process_path="/usr/bin/python3.12", pid=777, **WORKLOAD), ".999999999Z"


NON_JSON = "claw-runtime: warning: eBPF ring buffer overrun, 17 events lost (cpu=3)"


def _timestamp(index, suffix):
    return "2026-11-20T14:%02d:%02d%s" % (3 + index // 60, index % 60, suffix)


def claw_line(index, case, body, suffix):
    """The claw JSON event of one case: the same in every shape, event_id unique per case."""
    event = {"timestamp": _timestamp(index, suffix),
             "event_id": str(uuid.uuid5(EVENT_ID_NAMESPACE, case)),
             "event_type": body["event_type"], "agent_id": NODE["agent_id"],
             "runtime_version": "1.8.2", "host": NODE["host"]}
    event.update((k, v) for k, v in body.items() if k != "event_type")
    if case == "oversized":
        event["loader_trace"] = ""
        size = len(json.dumps(event, separators=(",", ":")).encode("utf-8"))
        unit = "ld.so: search path=/usr/lib/x86_64-linux-gnu "
        event["loader_trace"] = (unit * (OVERSIZED_BYTES // len(unit) + 1))[:OVERSIZED_BYTES - size]
    return event


def expected_fields(event, shape):
    """Field values Splunk must give for one parsed claw event in one shape."""
    kube = KUBERNETES if shape in ("hec_merged", "hec_log") else None
    out = {}
    for name in NORMALIZED:
        if event is not None and event.get(name) not in (None, ""):
            out[name] = str(event[name])
    # The `kubernetes` object and the CRI file name describe the pod that wrote
    # the line (the claw-runtime sensor): sensor_* fields, never the workload's.
    context = {}
    if kube:  # the sensor pod's own labels (kubernetes.labels) are never a tier
        context.update(sensor_namespace=kube["namespace_name"], sensor_pod=kube["pod_name"],
                       dest=kube["host"])
    elif shape == "cri":
        context.update(sensor_namespace=CRI_NAMESPACE, sensor_pod=CRI_POD)
    elif shape == "fluentbit_systemd":
        context.update(dest=NODE["host"])  # _HOSTNAME of the record
    if event is not None:
        if event.get("k8s_namespace"):
            context.update(namespace=event["k8s_namespace"], pod=event["k8s_pod"])
        if (event.get("k8s_labels") or {}).get("tier"):  # the workload pod's tier label
            context["tier"] = event["k8s_labels"]["tier"]
        if not kube:
            context["dest"] = event["host"]
    out.update(context)
    if event is None:
        return out
    for extra in ("drift_count", "detector"):  # unknown fields pass through where top-level
        if extra in event and shape in TOP_LEVEL_SHAPES:
            out[extra] = str(event[extra])
    out["vendor_product"] = "Claw Runtime"
    etype, verdict = event["event_type"], event.get("verdict")
    if verdict:
        out["action"] = {"Allowed": "allowed", "Denied": "blocked"}[verdict]
    if etype in ("binary_attestation", "library_load"):
        path = event["triggering_process_path"]
        out.update(process=path, process_path=path, process_name=path.rsplit("/", 1)[1],
                   process_id=str(event["pid"]), process_hash=event["subject_digest"])
    if etype == "library_load":
        out.update(loaded_file_path=event["library_path"],
                   loaded_file=event["library_path"].rsplit("/", 1)[1])
    if etype == "manifest_digest_mismatch":
        out.update(signature="Claw manifest digest mismatch", severity="high", ids_type="host",
                   file_hash=event["observed_digest"])
    elif verdict == "Denied":
        out.update(signature="Claw attestation denied: " + event["policy_name"], severity="high",
                   ids_type="host", file_hash=event["subject_digest"])
    return out


def models_for(event):
    if event is None:
        return []
    models = []
    if event["event_type"] == "binary_attestation":
        models.append("Endpoint:Processes")
    if event.get("verdict") == "Denied" or event["event_type"] == "manifest_digest_mismatch":
        models.append("Intrusion_Detection")
    return models


def _dumps(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def wrap(shape, text, parsed, timestamp):
    """What arrives at Splunk for one claw line ``text`` (``parsed`` None when not JSON)."""
    if shape in ("raw", "journald"):
        return text
    if shape == "cri":
        data = text.encode("utf-8")
        chunks = [data[i:i + CRI_PARTIAL_BYTES] for i in range(0, len(data), CRI_PARTIAL_BYTES)] or [b""]
        lines = ["%s stdout %s %s" % (timestamp, "F" if i == len(chunks) - 1 else "P", c.decode("utf-8"))
                 for i, c in enumerate(chunks)]
        return "\n".join(lines)
    if shape == "hec_merged" and parsed is not None:
        record = {"stream": "stdout", "logtag": "F"}
        record.update(parsed)  # Merge_Log On, Keep_Log Off: claw fields at top level
        record["kubernetes"] = KUBERNETES
        return _dumps(record)
    if shape in ("hec_merged", "hec_log"):  # Merge_Log Off, or a line Merge_Log could not parse
        return _dumps({"log": text, "stream": "stdout", "logtag": "F", "kubernetes": KUBERNETES})
    # fluentbit_systemd
    return _dumps({"MESSAGE": text, "_SYSTEMD_UNIT": SYSTEMD_UNIT, "_HOSTNAME": NODE["host"],
                   "PRIORITY": "6", "SYSLOG_IDENTIFIER": "claw-runtime", "_PID": "912",
                   "_TRANSPORT": "stdout", "_BOOT_ID": _sha("boot")[:32]})


def build(shape):
    """[(case, event_type, raw, expected, models)] for one shape."""
    rows = []
    cases = list(_case_events())
    for index, (case, body, suffix) in enumerate(cases):
        event = claw_line(index, case, body, suffix)
        text = _dumps(event)
        rows.append((case, event["event_type"], wrap(shape, text, event, event["timestamp"]),
                     expected_fields(event, shape), models_for(event)))
    index = len(cases)
    rows.append(("non_json", None, wrap(shape, NON_JSON, None, _timestamp(index, ".1Z")),
                 expected_fields(None, shape), []))
    full = _dumps(claw_line(index + 1, "truncated_json", cases[1][1], ".3Z"))
    cut = full[:full.index('"reason"') + 20]  # the writer died mid-line
    rows.append(("truncated_json", None, wrap(shape, cut, None, _timestamp(index + 1, ".3Z")),
                 expected_fields(None, shape), []))
    return rows


def to_xml(shape):
    sourcetype, source, host, input_type = SHAPE_META[shape]
    device = ET.Element("device")
    ET.SubElement(device, "vendor").text = "Claw"
    ET.SubElement(device, "product").text = "Claw Runtime"
    ET.SubElement(device, "version", id="1.8.2")
    for case, _etype, raw, expected, models in build(shape):
        event = ET.SubElement(device, "event", code="", name=case, format="json")
        transport_type = "hec_event" if input_type == "modinput" and shape != "journald" else (
            "modinput" if shape == "journald" else "file_monitor")
        ET.SubElement(event, "transport", type=transport_type, host=host, source=source,
                      sourcetype=sourcetype)
        src = ET.SubElement(event, "source")
        ET.SubElement(src, "comment").text = "TA-claw-runtime sample: %s delivered as %s" % (case, shape)
        ET.SubElement(event, "raw").text = raw
        cim = ET.SubElement(event, "cim")
        other = {}
        if models:
            models_el = ET.SubElement(cim, "models")
            for model in models:
                ET.SubElement(models_el, "model").text = model
            fields_el = ET.SubElement(cim, "cim_fields")
            for name in sorted(expected):
                if name in CIM_FIELD_NAMES:
                    ET.SubElement(fields_el, "field", name=name, value=expected[name])
                else:
                    other[name] = expected[name]
        else:
            other = expected
        if other:
            other_el = ET.SubElement(event, "other_mappings")
            for name in sorted(other):
                ET.SubElement(other_el, "field", name=name, value=other[name])
    ET.indent(device)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(device, encoding="unicode") + "\n"


def main():
    os.makedirs(SAMPLES_DIR, exist_ok=True)
    for shape in SHAPES:
        with open(os.path.join(SAMPLES_DIR, FILES[shape]), "w", encoding="utf-8", newline="\n") as f:
            f.write(to_xml(shape))
        print(os.path.join(SAMPLES_DIR, FILES[shape]))


if __name__ == "__main__":
    main()
