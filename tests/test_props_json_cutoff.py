"""Fields past Splunk's automatic JSON extraction are still extracted.

limits.conf spec, ``[spath] extraction_cutoff`` (default 5000): "For
'extract-all' spath extraction mode, this setting applies extraction only to
the first <integer> number of bytes. This setting applies both the auto kv
extraction and the spath command, when explicitly extracting fields":
https://help.splunk.com/en/data-management/splunk-enterprise-admin-manual/9.4/configuration-file-reference/9.4.0-configuration-file-reference/limits.conf
The props emulator models it (``props_emulator.JSON_EXTRACTION_CUTOFF``): with
KV_MODE=json only values that end within the first 5000 bytes of ``_raw``
become fields (whether a value cut by the limit comes out partly is not
documented; the emulator leaves it out, and the add-on relies on neither).
The add-on's calculated fields read the claw keys with ``json_extract``
(an eval function, not the extract-all mode), so every field a detection uses
is there wherever it sits in the event.
"""
import json

import pytest

from claw_ta_tools import normalize
from claw_ta_tools.emulators import props_emulator as pe
from tests.test_props_index_time import claw_line
from tests.test_sensor_filter import expand, search_matches

LONG_PATH = "/opt/app/" + "d" * 2300 + "/bin/server"  # an attested binary run from a 2.3 KB path
DIGEST = "sha256:" + "1" * 64
LIB_DIGEST = "sha256:" + "2" * 64
IMAGE_DIGEST = "sha256:" + "3" * 64
WANTED = {"event_type": "library_load", "library_path": "/usr/lib/libz.so.1", "library_digest": LIB_DIGEST,
          "image_digest": IMAGE_DIGEST, "namespace": "payments", "pod": "web-1", "image_ref": "registry.example.com/shop/web:1",
          "container_id": "c" * 64, "subject_digest": DIGEST, "loaded_file": "libz.so.1"}
KUBE = {"pod_name": "claw-runtime-7xk2p", "namespace_name": "claw-system", "host": "node-12"}


def load_line():
    return claw_line("lib", event_type="library_load", subject_name=LONG_PATH, triggering_process_path=LONG_PATH,
                     library_path="/usr/lib/libz.so.1", library_digest=LIB_DIGEST, image_digest=IMAGE_DIGEST,
                     image_ref="registry.example.com/shop/web:1", container_id="c" * 64,
                     k8s_namespace="payments", k8s_pod="web-1", subject_digest=DIGEST)


def shapes(line):
    return {
        "raw": line,
        "hec_log": json.dumps({"log": line + "\n", "stream": "stdout", "kubernetes": KUBE}),
        "hec_merged": json.dumps(dict(json.loads(line), stream="stdout", kubernetes=KUBE)),
        "fluentbit_systemd": json.dumps({"MESSAGE": line, "_SYSTEMD_UNIT": "claw-runtime.service",
                                         "_HOSTNAME": "node-12"}),
    }


def test_the_emulator_stops_automatic_json_extraction_at_the_cutoff():
    raw = load_line()
    assert raw.index('"library_path"') > pe.JSON_EXTRACTION_CUTOFF
    auto = pe.auto_json_fields(raw)
    assert auto["event_type"] == "library_load" and auto["subject_digest"] == DIGEST
    assert "library_path" not in auto and "k8s_namespace" not in auto and "subject_name" in auto
    assert pe.auto_json_fields(raw, cutoff=10 ** 9)["library_path"] == "/usr/lib/libz.so.1"
    # bytes, not characters: a multi-byte value before the key moves it past the cutoff
    wide = claw_line("w", subject_name="\u00e9" * 2400, library_path="/x.so")
    assert raw.index('"library_path"') > len(wide) - 100 and "library_path" not in pe.auto_json_fields(wide)


@pytest.mark.parametrize("shape", ["raw", "hec_log", "hec_merged", "fluentbit_systemd"])
def test_every_detection_field_is_extracted_past_the_cutoff(shape):
    raw = shapes(load_line())[shape]
    assert len(raw.encode("utf-8")) > pe.JSON_EXTRACTION_CUTOFF
    fields = pe.search_time(raw)
    assert dict((k, fields.get(k)) for k in WANTED) == WANTED
    assert fields["subject_name"] == LONG_PATH and fields["process_path"] == LONG_PATH
    replay = normalize.normalize(json.loads(raw)) if shape != "raw" else normalize.normalize_text(raw)
    assert dict((k, replay.get(k)) for k in WANTED if k in normalize.NORMALIZED_FIELDS) == \
        dict((k, v) for k, v in WANTED.items() if k in normalize.NORMALIZED_FIELDS)


def test_the_writer_is_known_past_the_cutoff_so_a_long_forged_line_is_still_refused():
    """A workload's own long line collected by a pipeline: its `kubernetes` object comes after `log`."""
    forged = load_line()
    record = {"log": forged + "\n", "stream": "stdout",
              "kubernetes": {"pod_name": "web-1", "namespace_name": "payments", "host": "node-12"}}
    fields = pe.search_time(json.dumps(record))
    assert (fields.get("sensor_namespace"), fields.get("sensor_pod")) == ("payments", "web-1")
    assert search_matches(expand("`claw_runtime_sensor`"), fields) is False
    journal = {"MESSAGE": forged, "_SYSTEMD_UNIT": "backup.service", "_HOSTNAME": "node-12"}
    fields = pe.search_time(json.dumps(journal))
    assert search_matches(expand("`claw_runtime_sensor`"), fields) is False
    ok = dict(record, kubernetes=KUBE)
    assert search_matches(expand("`claw_runtime_sensor`"), pe.search_time(json.dumps(ok))) is True


def test_the_dest_and_tier_fields_come_from_past_the_cutoff_too():
    # the workload's tier is its pod label in the claw event (k8s_labels), here last, past the cutoff;
    # the kubernetes object's labels are the sensor pod's and never a tier
    line = dict(json.loads(load_line()), k8s_labels={"app": "web", "tier": "frontend"})
    record = dict(line, kubernetes=dict(KUBE, labels={"tier": "platform-security"}))
    raw = json.dumps(record)
    assert raw.index('"k8s_labels"') > pe.JSON_EXTRACTION_CUTOFF
    fields = pe.search_time(raw)
    assert fields["dest"] == "node-12" and fields["tier"] == "frontend"
    hec_log = json.dumps({"log": json.dumps(line) + "\n", "kubernetes": KUBE})
    assert pe.search_time(hec_log)["tier"] == "frontend"
