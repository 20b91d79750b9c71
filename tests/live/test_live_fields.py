"""Every sample, sent to a real Splunk the way its delivery path sends it, gives its fields.

Skipped unless a Splunk is configured (see conftest.py and docs/testing.md).
Raw, CRI and journald-file lines go through the HEC raw endpoint (props.conf
line breaking, CRI stripping/merging, sourcetype rename and TIME_FORMAT run on
them); Fluent Bit records and journald entries through the HEC event endpoint.
"""
import pytest

from tests.live.splunk_live import event_time
from tests.samples import load_samples

SAMPLES = load_samples()
IDS = [s.name for s in SAMPLES]
MODEL_TAGS = {"Endpoint:Processes": {"process", "report"}, "Intrusion_Detection": {"ids", "attack"}}
_FOUND = {}


def found(live_splunk, sample):
    """The search results for one sample's event (searched once per session)."""
    if sample.name not in _FOUND:
        spl = live_splunk.base_search(sample) + " | eval claw_live_epoch=_time | table *"
        _FOUND[sample.name] = live_splunk.search(spl)
    return _FOUND[sample.name]


def only_event(live_splunk, sample):
    rows = found(live_splunk, sample)
    assert len(rows) == 1, "%d events for %s (expected exactly one): %s" % (
        len(rows), sample.name, live_splunk.base_search(sample))
    return rows[0]


def test_every_sample_was_indexed_once(ingested):
    assert ingested["count"] == len(ingested["samples"]), (
        "%d events indexed in this run for %d samples (use a dedicated SPLUNK_INDEX)"
        % (ingested["count"], len(ingested["samples"])))


@pytest.mark.parametrize("sample", SAMPLES, ids=IDS)
def test_sample_gives_its_expected_fields(live_splunk, ingested, sample):
    row = only_event(live_splunk, sample)
    assert row.get("sourcetype") == "claw:runtime"
    wrong = {}
    for field, value in sample.expected.items():
        got = row.get(field)
        if got != value:  # a list means the field was extracted more than once
            wrong[field] = (got, value)
    assert not wrong, "field: (Splunk gives, sample expects)"


@pytest.mark.parametrize("sample", [s for s in SAMPLES if s.models],
                         ids=[s.name for s in SAMPLES if s.models])
def test_sample_is_tagged_for_its_cim_models(live_splunk, ingested, sample):
    row = only_event(live_splunk, sample)
    tags = row.get("tag") or []
    tags = {tags} if isinstance(tags, str) else set(tags)
    for model in sample.models:
        assert MODEL_TAGS[model] <= tags, (model, sorted(tags))


@pytest.mark.parametrize("sample", [s for s in SAMPLES if s.event_type],
                         ids=[s.name for s in SAMPLES if s.event_type])
def test_event_time_is_the_claw_timestamp(live_splunk, ingested, sample):
    row = only_event(live_splunk, sample)
    assert float(row["claw_live_epoch"]) == pytest.approx(event_time(sample), abs=1e-3)


@pytest.mark.parametrize("sample", [s for s in SAMPLES if not s.event_type],
                         ids=[s.name for s in SAMPLES if not s.event_type])
def test_bad_lines_stay_searchable_as_raw_events(live_splunk, ingested, sample):
    row = only_event(live_splunk, sample)
    assert row.get("_raw")
    assert not row.get("event_type")
