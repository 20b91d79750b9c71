"""The JSON Schema of the claw event (schemas/claw-runtime-event.schema.json).

Every sample's claw event, in every delivery shape, is valid; events that
break the log format are rejected with an error naming what is wrong.
"""
import copy
import json
import os
import re

import jsonschema
import pytest

from tests import paths
from tests.samples import claw_event, claw_text, load_samples

SCHEMA_PATH = os.path.join(paths.REPO, "schemas", "claw-runtime-event.schema.json")
with open(SCHEMA_PATH, encoding="utf-8") as _f:
    SCHEMA = json.load(_f)
VALIDATOR = jsonschema.Draft202012Validator(
    SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
SAMPLES = load_samples()
PARSED = [s for s in SAMPLES if s.event_type]
UNPARSABLE = [s for s in SAMPLES if not s.event_type]


def errors(event):
    return sorted(VALIDATOR.iter_errors(event), key=lambda e: list(e.absolute_path))


def first_error(event):
    found = errors(event)
    assert found, "schema accepted %r" % {k: event[k] for k in list(event)[:4]}
    return jsonschema.exceptions.best_match(found)


def test_schema_is_a_valid_draft_2020_12_schema():
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["additionalProperties"] is True


@pytest.mark.parametrize("sample", PARSED, ids=[s.name for s in PARSED])
def test_every_sample_event_is_valid(sample):
    event = claw_event(sample)
    assert event is not None
    problems = ["%s: %s" % ("/".join(map(str, e.absolute_path)), e.message) for e in errors(event)]
    assert not problems


@pytest.mark.parametrize("sample", UNPARSABLE, ids=[s.name for s in UNPARSABLE])
def test_non_json_and_truncated_lines_are_not_claw_events(sample):
    text = claw_text(sample)
    assert text is not None
    with pytest.raises(ValueError):
        json.loads(text)


def _base(case="binary_attestation_denied"):
    sample = next(s for s in SAMPLES if s.shape == "raw" and s.case == case)
    return copy.deepcopy(claw_event(sample))


def test_unknown_event_type_with_extra_fields_is_valid():
    event = _base("unknown_event_type")
    assert event["event_type"] not in ("binary_attestation", "library_load")
    event["future_field"] = {"nested": [1, 2, {"x": None}]}
    assert errors(event) == []


@pytest.mark.parametrize("fraction", ["", ".1", ".123", ".123456", ".123456789"])
def test_timestamps_with_zero_to_nine_fractional_digits_are_valid(fraction):
    event = _base()
    event["timestamp"] = "2026-11-20T14:03:22%sZ" % fraction
    assert errors(event) == []


@pytest.mark.parametrize("mutate, where, words", [
    (lambda e: e.pop("event_id"), "", "'event_id' is a required property"),
    (lambda e: e.update(timestamp="2026-11-20T14:03:22.1234567891Z"), "timestamp", "does not match"),
    (lambda e: e.update(timestamp="2026-11-20T14:03:22.123+01:00"), "timestamp", "does not match"),
    (lambda e: e.update(timestamp="2026-11-20 14:03:22Z"), "timestamp", "does not match"),
    (lambda e: e.update(timestamp="2026-13-20T14:03:22Z"), "timestamp", "does not match"),
    (lambda e: e.update(event_id="not-a-uuid"), "event_id", "does not match"),
    (lambda e: e.update(subject_digest="sha256:ABC"), "subject_digest", "does not match"),
    (lambda e: e.update(subject_digest="md5:" + "0" * 32), "subject_digest", "does not match"),
    (lambda e: e.update(container_id="e3f1..."), "container_id", "does not match"),
    (lambda e: e.update(verdict="Maybe"), "verdict", "is not one of"),
    (lambda e: e.update(slsa_level=5), "slsa_level", "greater than the maximum"),
    (lambda e: e.update(pid="4121"), "pid", "is not of type 'integer'"),
    (lambda e: e.update(triggering_process_path="payments-api"), "triggering_process_path",
     "does not match"),
    (lambda e: e.update(runtime_version="v1.8"), "runtime_version", "does not match"),
    (lambda e: e.pop("reason"), "", "'reason' is a required property"),  # Denied needs a reason
    (lambda e: e.pop("pid"), "", "'pid' is a required property"),
    (lambda e: e.update(event_type=""), "event_type", "does not match"),
    (lambda e: e.update(k8s_labels={"tier": 3}), "k8s_labels/tier", "is not of type 'string'"),
    (lambda e: e.update(k8s_node_labels=["tier=frontend"]), "k8s_node_labels", "is not of type 'object'"),
], ids=["no_event_id", "ten_fraction_digits", "not_utc", "no_T", "month_13", "bad_uuid",
        "short_digest", "md5_digest", "elided_container_id", "bad_verdict", "slsa_5", "pid_string",
        "relative_process_path", "bad_semver", "denied_without_reason", "binary_without_pid",
        "empty_event_type", "label_not_a_string", "node_labels_not_an_object"])
def test_invalid_events_are_rejected_with_a_useful_error(mutate, where, words):
    event = _base()
    mutate(event)
    error = first_error(event)
    assert "/".join(map(str, error.absolute_path)) == where
    assert words in error.message


@pytest.mark.parametrize("case, missing", [
    ("library_load_overlay", "library_path"),
    ("manifest_digest_mismatch", "observed_digest"),
    ("image_attestation_allowed", "policy_name"),
])
def test_required_fields_per_event_type(case, missing):
    event = _base(case)
    assert errors(event) == []
    del event[missing]
    assert "'%s' is a required property" % missing in first_error(event).message


def test_heartbeat_needs_only_the_common_fields():
    event = _base("agent_heartbeat")
    common = {k: event[k] for k in SCHEMA["required"]}
    assert errors(common) == []
    del common["agent_id"]
    assert "'agent_id' is a required property" in first_error(common).message


def test_pod_and_node_labels_follow_the_contract():
    """k8s_labels: the workload pod's labels; k8s_node_labels: the sensor's node (heartbeats)."""
    heartbeat = _base("agent_heartbeat")
    assert heartbeat["k8s_node_labels"]["kubernetes.io/arch"] == "amd64"
    assert errors(heartbeat) == []
    load = _base("image_attestation_allowed")
    assert load["k8s_labels"]["tier"] == "backend" and errors(load) == []


def _contract_body(text):
    """The contract's text after its title line (and, in docs/, after the page's note)."""
    lines = text.splitlines()[1:]
    while lines and (not lines[0].strip() or lines[0].startswith(">")):
        lines.pop(0)
    return "\n".join(lines).replace("\n\n[Back to the README](../README.md)", "").strip()


def test_docs_page_mirrors_the_contract(shared_dir):
    """docs/log-format.md is the contract in ../shared word for word (plus the page's note)."""
    with open(os.path.join(shared_dir, "claw-runtime-log-format.md"), encoding="utf-8") as handle:
        contract = handle.read()
    with open(os.path.join(paths.REPO, "docs", "log-format.md"), encoding="utf-8") as handle:
        page = handle.read()
    assert _contract_body(page) == _contract_body(contract)


def test_schema_names_every_field_of_the_contract():
    with open(os.path.join(paths.REPO, "docs", "log-format.md"), encoding="utf-8") as handle:
        table = handle.read().split("## 1.")[1].split("## 2.")[0]
    named = set()
    for row in table.splitlines():
        if row.startswith("| `"):
            named.update(re.findall(r"`([a-z0-9_]+)`", row.split("|")[1]))
    assert {"k8s_labels", "k8s_node_labels", "k8s_namespace", "k8s_pod"} <= named
    assert named <= set(SCHEMA["properties"]), named - set(SCHEMA["properties"])
