"""Every delivery shape gives the same normalized, CIM-mapped fields.

For each sample event (tests/data/samples, every event type in every shape):
props.conf as Splunk applies it (claw_ta_tools.emulators.props_emulator) must give the field
values the sample says it must produce, and so must the replay's Python
normalization (claw_ta_tools.normalize); and the two must agree on every
normalized and CIM field, present or absent.
"""
import io
import json

import pytest

from claw_ta_tools import normalize
from claw_ta_tools.emulators import props_emulator as pe
from tests.samples import HEC_SHAPES, load_samples

SAMPLES = load_samples()
COMPARED = normalize.NORMALIZED_FIELDS + normalize.CIM_FIELDS


def splunk_fields(sample):
    """Index time (file shapes) then search time, as Splunk would."""
    if sample.shape in HEC_SHAPES:
        events = [("claw:runtime", sample.raw, None)]  # HEC event endpoint: no line breaking
    else:
        events = pe.index_time(sample.sourcetype, sample.raw + "\n")
    assert len(events) == 1, "%s broke into %d events" % (sample.name, len(events))
    sourcetype, raw, when = events[0]
    assert sourcetype == "claw:runtime"
    fields = pe.search_time(raw, sourcetype, source=sample.source, host=sample.host,
                            indexed=sample.indexed_fields)
    if when is not None:
        fields["_time"] = when
    return fields


def python_fields(sample):
    if sample.shape in HEC_SHAPES:
        return normalize.normalize(json.loads(sample.raw), source=sample.source, host=sample.host)
    if sample.shape == "cri":
        events = list(normalize._read_cri(io.StringIO(sample.raw + "\n"), sample.source))
        assert len(events) == 1
        return events[0]
    return normalize.normalize_text(sample.raw, source=sample.source, host=sample.host)


def spath_inner(fields):
    """What `claw_runtime_spath` (spath input=log, then input=MESSAGE) adds."""
    added = {}
    for carrier in ("log", "MESSAGE"):
        try:
            inner = json.loads(fields.get(carrier) or "")
        except ValueError:
            continue
        if isinstance(inner, dict):
            added.update(pe.flatten_json(inner))
    return added


@pytest.mark.parametrize("sample", SAMPLES, ids=[s.name for s in SAMPLES])
def test_props_give_the_expected_fields(sample):
    fields = splunk_fields(sample)
    # Fields the format does not name, inside the JSON string of `log` / `MESSAGE`,
    # are not search-time fields (KV_MODE=json reads only the outer object):
    # the `claw_runtime_spath` macro brings them out.
    if sample.shape in ("hec_log", "fluentbit_systemd"):
        assert pe.conf.app_conf("macros")["claw_runtime_spath"]["definition"] == \
            "spath input=log | spath input=MESSAGE"
        for key, value in spath_inner(fields).items():
            fields.setdefault(key, value)
    wrong = {k: (fields.get(k), v) for k, v in sample.expected.items() if fields.get(k) != v}
    assert not wrong, "field: (props gives, sample expects)"


@pytest.mark.parametrize("sample", SAMPLES, ids=[s.name for s in SAMPLES])
def test_replay_normalization_gives_the_expected_fields(sample):
    fields = python_fields(sample)
    if "parse_error" in fields:  # a line that is no JSON object is still an event
        assert sample.event_type is None, fields["parse_error"]
    wrong = {k: (fields.get(k), v) for k, v in sample.expected.items() if fields.get(k) != v}
    assert not wrong, "field: (normalize gives, sample expects)"


@pytest.mark.parametrize("sample", [s for s in SAMPLES if s.event_type],
                         ids=[s.name for s in SAMPLES if s.event_type])
def test_props_and_replay_normalization_agree(sample):
    splunk, python = splunk_fields(sample), python_fields(sample)
    differ = {k: (splunk.get(k), python.get(k)) for k in COMPARED if splunk.get(k) != python.get(k)}
    assert not differ, "field: (props, normalize)"
    if "_time" in splunk:
        assert python["_time"] == pytest.approx(splunk["_time"], abs=1e-6)


def test_every_shape_yields_the_same_claw_fields_for_the_same_event():
    """The samples send the same claw event through each container shape (raw
    file, CRI, both Fluent Bit shapes) and through both journal shapes; only
    event_id (unique per sample) and the Kubernetes-derived fields differ."""
    groups = {}
    for sample in SAMPLES:
        if sample.event_type:
            fields = splunk_fields(sample)
            claw = {k: fields.get(k) for k in normalize.CLAW_FIELDS
                    if k not in ("image_ref", "image_digest", "container_id")}
            group = "host" if sample.shape in ("journald", "fluentbit_systemd") else "container"
            groups.setdefault((sample.case, group), {})[sample.shape] = claw
    assert len(groups) >= 20
    for key, shapes in groups.items():
        assert len(shapes) == (2 if key[1] == "host" else 4), key
        first = next(iter(shapes.values()))
        assert first["event_type"], key
        for shape, claw in shapes.items():
            assert claw == first, (key, shape)
