"""The sample events themselves (tests/data): coverage, delivery shapes, expected values.

The expected field values of every sample are re-derived here from its raw
text alone, with the rules of docs/log-format.md and docs/fields.md (independently of
tests/sample_events.py, which wrote them, and of claw_ta_tools.normalize).
"""
import json
import os
import re
import xml.etree.ElementTree as ET

import pytest

from claw_ta import conffile as conf
from tests import sample_events
from tests.samples import (CONF, HEC_SHAPES, SAMPLES_DIR, SHAPES, claw_event, claw_text,
                           load_samples, read_conf)

SAMPLES = load_samples()
IDS = [s.name for s in SAMPLES]
EVENT_TYPES = ("binary_attestation", "image_attestation", "library_load",
               "manifest_digest_mismatch", "agent_heartbeat")
CASES = ("binary_attestation_allowed", "binary_attestation_denied", "image_attestation_allowed",
         "image_attestation_denied", "library_load_overlay", "library_load_memfd",
         "library_load_non_ascii", "manifest_digest_mismatch", "agent_heartbeat",
         "unknown_event_type", "non_json", "truncated_json", "oversized")
CONTRACT_FIELDS = ("timestamp", "event_id", "event_type", "agent_id", "runtime_version", "host",
                   "verdict", "subject_digest", "subject_name", "material_uri", "slsa_level",
                   "policy_name", "reason", "triggering_process_path", "pid", "container_id",
                   "image_ref", "image_digest", "k8s_namespace", "k8s_pod", "library_path",
                   "library_digest", "expected_digest", "observed_digest")
CLAW_NORMALIZED = ("event_type", "verdict", "subject_digest", "subject_name", "material_uri",
                   "slsa_level", "policy_name", "reason", "triggering_process_path", "pid",
                   "library_path", "library_digest", "image_ref", "image_digest",
                   "expected_digest", "observed_digest", "container_id", "agent_id")
CRI_FILE = re.compile(r"^/var/log/containers/(?P<pod>[a-z0-9.-]+)_(?P<ns>[a-z0-9-]+)_"
                      r"(?P<container>[a-z0-9-]+)-(?P<id>[0-9a-f]{64})\.log$")
CRI_LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?Z) (stdout|stderr) ([PF]) ")
SHA256 = re.compile(r"^sha256:[0-9a-f]{64}$")
KUBE_KEYS = ("pod_name", "namespace_name", "pod_id", "host", "container_name", "container_image",
             "container_hash", "docker_id", "labels", "annotations")


def basename(path):
    return path.rsplit("/", 1)[-1]


def derive_expected(sample):
    """What the sample must produce, from its raw text and the documented rules only."""
    event = claw_event(sample)
    record = json.loads(sample.raw) if sample.shape in HEC_SHAPES else {}
    kube = record.get("kubernetes") or {}
    cri = CRI_FILE.match(sample.source) if sample.shape == "cri" else None
    ev = event or {}
    out = {k: str(ev[k]) for k in CLAW_NORMALIZED if ev.get(k) not in (None, "")}
    # The workload is what the claw event names; the `kubernetes` object and the
    # CRI file name are the sensor pod that wrote the line (docs/fields.md).
    context = {
        "namespace": ev.get("k8s_namespace"),
        "pod": ev.get("k8s_pod"),
        "sensor_namespace": kube.get("namespace_name") or (cri and cri.group("ns")),
        "sensor_pod": kube.get("pod_name") or (cri and cri.group("pod")),
        # the workload pod's tier label (k8s_labels), never the sensor pod's kubernetes.labels
        "tier": (ev.get("k8s_labels") or {}).get("tier"),
        "dest": kube.get("host") or ev.get("host") or record.get("_HOSTNAME"),
    }
    out.update((k, v) for k, v in context.items() if v)
    if event is None:
        return out
    if event["event_type"] not in EVENT_TYPES and sample.shape in sample_events.TOP_LEVEL_SHAPES:
        out.update((k, str(v)) for k, v in event.items()
                   if k not in CONTRACT_FIELDS and not isinstance(v, (dict, list)))
    out["vendor_product"] = "Claw Runtime"
    verdict = event.get("verdict")
    if verdict:
        out["action"] = "allowed" if verdict == "Allowed" else "blocked"
    if event["event_type"] in ("binary_attestation", "library_load"):
        path = event["triggering_process_path"]
        out.update(process=path, process_path=path, process_name=basename(path),
                   process_id=str(event["pid"]), process_hash=event["subject_digest"])
    if event["event_type"] == "library_load":
        out.update(loaded_file=basename(event["library_path"]), loaded_file_path=event["library_path"])
    if event["event_type"] == "manifest_digest_mismatch":
        out.update(signature="Claw manifest digest mismatch", severity="high", ids_type="host",
                   file_hash=event["observed_digest"])
    elif verdict == "Denied":
        out.update(signature="Claw attestation denied: %s" % event["policy_name"], severity="high",
                   ids_type="host", file_hash=event["subject_digest"])
    return out


@pytest.mark.parametrize("sample", SAMPLES, ids=IDS)
def test_expected_fields_follow_from_the_raw_event(sample):
    derived = derive_expected(sample)
    assert sample.expected == derived


@pytest.mark.parametrize("sample", SAMPLES, ids=IDS)
def test_cim_models_follow_from_the_event(sample):
    event = claw_event(sample) or {}
    models = []
    if event.get("event_type") == "binary_attestation":
        models.append("Endpoint:Processes")
    if event.get("verdict") == "Denied" or event.get("event_type") == "manifest_digest_mismatch":
        models.append("Intrusion_Detection")
    assert sample.models == models


def test_every_shape_has_every_case_and_event_type():
    for shape in SHAPES:
        of_shape = [s for s in SAMPLES if s.shape == shape]
        assert sorted(s.case for s in of_shape) == sorted(CASES), shape
        assert set(EVENT_TYPES) <= {s.event_type for s in of_shape}, shape
        verdicts = {(s.event_type, s.expected.get("verdict")) for s in of_shape}
        for etype in ("binary_attestation", "image_attestation"):
            assert {(etype, "Allowed"), (etype, "Denied")} <= verdicts, shape


def test_library_paths_include_overlay_memfd_and_non_ascii():
    paths = {s.expected["library_path"] for s in SAMPLES if s.event_type == "library_load"}
    assert any("/rootfs/" in p or "overlayfs/snapshots/" in p for p in paths)
    assert any(p.startswith("/memfd:") and p.endswith(" (deleted)") for p in paths)
    assert any(any(ord(c) > 127 for c in p) for p in paths)
    memfd = next(s for s in SAMPLES if s.case == "library_load_memfd")
    assert memfd.expected["loaded_file"] == "memfd:jit-cache (deleted)"


def test_event_ids_are_unique_per_shape_and_shared_by_the_same_event_across_shapes():
    by_case = {}
    for shape in SHAPES:
        ids = [claw_event(s)["event_id"] for s in SAMPLES if s.shape == shape and s.event_type]
        assert ids and len(ids) == len(set(ids)), shape
    for sample in SAMPLES:
        if sample.event_type:
            by_case.setdefault(sample.case, set()).add(claw_event(sample)["event_id"])
    assert all(len(ids) == 1 for ids in by_case.values()), by_case


@pytest.mark.parametrize("sample", SAMPLES, ids=IDS)
def test_raw_has_the_form_of_its_delivery_shape(sample):
    if sample.shape in ("raw", "journald"):
        assert "\n" not in sample.raw
        assert sample.sourcetype == "claw:runtime"
    if sample.shape == "journald":
        assert sample.indexed_fields == {"_SYSTEMD_UNIT": "claw-runtime.service",
                                         "_HOSTNAME": sample.host}
    if sample.shape == "cri":
        assert sample.sourcetype == "claw:runtime:cri"
        assert CRI_FILE.match(sample.source), sample.source
        lines = sample.raw.split("\n")
        tags = [CRI_LINE.match(line).group(3) for line in lines]
        assert tags == ["P"] * (len(lines) - 1) + ["F"]
        for line in lines[:-1]:  # partials are cut at exactly 16 KiB of content
            assert len(line[CRI_LINE.match(line).end():].encode("utf-8")) == 16384
        assert (len(lines) > 1) == (len(claw_text(sample).encode("utf-8")) > 16384)
    if sample.shape in HEC_SHAPES:
        record = json.loads(sample.raw)
        assert isinstance(record, dict) and sample.sourcetype == "claw:runtime"
    if sample.shape in ("hec_merged", "hec_log"):
        kube = record["kubernetes"]
        assert set(KUBE_KEYS) <= set(kube)
        assert "tier" in kube["labels"] and kube["annotations"]
        assert re.match(r"^[a-z0-9.-]+/[a-z0-9/._-]+@sha256:[0-9a-f]{64}$", kube["container_hash"])
        assert re.match(r"^[0-9a-f]{64}$", kube["docker_id"])
    if sample.shape == "hec_merged":
        if sample.event_type:  # Merge_Log On, Keep_Log Off: claw fields at top level, no log
            assert "log" not in record and record["event_type"] == sample.event_type
        else:  # a line Merge_Log cannot parse stays in log
            assert isinstance(record["log"], str) and "event_type" not in record
    if sample.shape == "hec_log":
        assert isinstance(record["log"], str)
        assert not set(record) & set(CONTRACT_FIELDS)
    if sample.shape == "fluentbit_systemd":
        assert isinstance(record["MESSAGE"], str)
        assert record["_SYSTEMD_UNIT"] == "claw-runtime.service" and record["_HOSTNAME"]
        assert not set(record) & set(CONTRACT_FIELDS)


def test_the_cri_file_name_names_the_sensor_and_never_the_workload():
    cri = [s for s in SAMPLES if s.shape == "cri" and s.event_type]
    from_file = [s for s in cri if "k8s_namespace" not in claw_event(s)]
    from_event = [s for s in cri if "k8s_namespace" in claw_event(s)]
    assert from_file and from_event
    name = CRI_FILE.match(cri[0].source)
    assert {(s.expected["sensor_namespace"], s.expected["sensor_pod"]) for s in cri} == {
        (name.group("ns"), name.group("pod"))}
    assert not any("namespace" in s.expected or "pod" in s.expected for s in from_file)
    assert all(s.expected["namespace"] == claw_event(s)["k8s_namespace"] for s in from_event)


def test_oversized_event_is_under_truncate_with_key_fields_first():
    """Over 244 KiB (the old TRUNCATE cut such events), under the shipped TRUNCATE."""
    truncate = min(int(conf.app_conf("props")[st]["TRUNCATE"]) for st in ("claw:runtime", "claw:runtime:cri"))
    for sample in (s for s in SAMPLES if s.case == "oversized"):
        text = claw_text(sample) or json.dumps(claw_event(sample), separators=(",", ":"))
        size = len(text.encode("utf-8"))
        assert 240000 < size < truncate, (sample.name, size, truncate)
        assert len(sample.raw.encode("utf-8")) < truncate, sample.name
        # Key fields sit within [spath] extraction_cutoff (5000 bytes) of the start.
        head = text.encode("utf-8")[:5000].decode("utf-8", "ignore")
        for key in ("event_type", "verdict", "subject_digest", "policy_name", "pid", "host"):
            assert '"%s":' % key in head, (sample.name, key)


def test_every_sample_timestamp_parses_as_rfc3339_utc():
    pattern = re.compile(r'"timestamp":"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?Z)"')
    for sample in SAMPLES:
        if sample.case != "non_json":
            assert pattern.search(claw_text(sample) or sample.raw), sample.name


def test_conf_stanzas_match_the_sample_files():
    stanzas = read_conf()
    assert sorted(stanzas) == sorted(f for f in os.listdir(SAMPLES_DIR) if f.endswith(".xml"))
    inputs = {"raw": "file_monitor", "cri": "file_monitor", "hec_merged": "modinput",
              "hec_log": "modinput", "journald": "modinput", "fluentbit_systemd": "modinput"}
    for name, meta in stanzas.items():
        shape = name[len("claw_"):-len(".xml")]
        of_file = [s for s in SAMPLES if s.shape == shape]
        assert meta["requirement_test_sample"] == "1"
        assert meta["input_type"] == inputs[shape]
        assert meta["sourcetype"] == of_file[0].sourcetype
        assert meta["sourcetype_to_search"] == "claw:runtime"
        assert meta["source"] == of_file[0].source and meta["host"] == of_file[0].host
        assert meta["host_type"] in ("plugin", "event") and meta["timestamp_type"] in ("plugin", "event")
        assert int(meta["expected_event_count"]) == len(of_file)


@pytest.mark.parametrize("shape", SHAPES)
def test_xml_has_pytest_splunk_addon_requirement_structure(shape):
    root = ET.parse(os.path.join(SAMPLES_DIR, "claw_%s.xml" % shape)).getroot()
    assert [c.tag for c in root][:3] == ["vendor", "product", "version"]
    assert root.find("version").get("id")
    transports = {"modinput", "hec_event", "hec_raw", "file_monitor"}
    for event in root.findall("event"):
        assert {"code", "name", "format"} <= set(event.attrib)
        tags = [c.tag for c in event]
        assert tags[:4] == ["transport", "source", "raw", "cim"], tags
        assert set(tags[4:]) <= {"other_mappings"}
        assert event.find("transport").get("type") in transports
        assert event.find("source/comment").text
        cim = event.find("cim")
        if cim.find("models") is not None:  # CIM fields go under cim_fields, the rest elsewhere
            names = {f.get("name") for f in cim.findall("cim_fields/field")}
            assert names and names <= set(sample_events.CIM_FIELD_NAMES)
        else:
            assert cim.find("cim_fields") is None


@pytest.mark.parametrize("shape", SHAPES)
def test_committed_xml_is_what_the_generator_writes(shape):
    with open(os.path.join(SAMPLES_DIR, sample_events.FILES[shape]), encoding="utf-8") as f:
        assert f.read() == sample_events.to_xml(shape), "run: python -m tests.sample_events"


def test_loader_rejects_a_sample_file_it_cannot_place(tmp_path):
    from tests import samples as loader
    with pytest.raises(ValueError, match="claw_<shape>.xml"):
        loader.shape_of("claw_syslog.xml")
    bad = tmp_path / "claw_raw.xml"
    bad.write_text('<device><vendor/><product/><version id="1"/><event name="x"><cim/></event></device>')
    with pytest.raises(ValueError, match="has no <raw>"):
        list(loader._parse_file(str(bad), {"sourcetype": "claw:runtime", "source": "s"}))
    assert os.path.exists(CONF)
