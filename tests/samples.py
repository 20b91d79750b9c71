"""The sample events of every delivery shape, as tests use them.

They live in pytest-splunk-addon's requirement-test format so that a live
Splunk run can ingest them too: ``tests/data/pytest-splunk-addon-data.conf``
(one stanza per sample file: sourcetype, source, input_type, ...) and
``tests/data/samples/claw_<shape>.xml`` (one ``<event>`` per sample: ``<raw>``
plus the fields it must produce in ``<cim_fields>`` and ``<other_mappings>``).

    from tests.samples import load_samples
    for sample in load_samples():
        sample.shape, sample.raw, sample.expected  # ...

``Sample.raw`` is exactly what arrives at Splunk: the line(s) of the file for
the ``raw``, ``cri`` and ``journald`` shapes (CRI partials joined by ``\\n``),
the HEC ``event`` object serialized as JSON for the other shapes.
"""
import json
import os
import re
import xml.etree.ElementTree as ET
from collections import namedtuple

from claw_ta import conffile
from tests import paths

CONF = os.path.join(paths.DATA, "pytest-splunk-addon-data.conf")
SAMPLES_DIR = os.path.join(paths.DATA, "samples")
SHAPES = ("raw", "cri", "hec_merged", "hec_log", "journald", "fluentbit_systemd")
# Shapes whose raw is a HEC event object (JSON); the others are text lines.
HEC_SHAPES = ("hec_merged", "hec_log", "fluentbit_systemd")
SYSTEMD_UNIT = "claw-runtime.service"

Sample = namedtuple("Sample", [
    "name",            # "<shape>:<case>", unique
    "case",            # binary_attestation_allowed, ..., non_json, truncated_json, oversized
    "shape",           # one of SHAPES
    "sourcetype",      # as sent (claw:runtime:cri for CRI files, else claw:runtime)
    "source",
    "host",            # Splunk's host of the event
    "raw",             # exactly what arrives at Splunk
    "event_type",      # the claw event_type, None when the line cannot be parsed
    "expected",        # {field: value} search-time extraction must give (strings)
    "models",          # CIM models, e.g. ["Endpoint:Processes", "Intrusion_Detection"]
    "input_type",      # pytest-splunk-addon input_type (file_monitor, modinput)
    "indexed_fields",  # indexed fields sent with the event (journald: _SYSTEMD_UNIT, _HOSTNAME)
])


def read_conf(path=CONF):
    """{sample file name: {key: value}} of pytest-splunk-addon-data.conf."""
    return dict((name, dict(keys)) for name, keys in conffile.parse(path).items() if name != "default")


def shape_of(file_name):
    """``claw_hec_log.xml`` -> ``hec_log``."""
    stem = os.path.splitext(os.path.basename(file_name))[0]
    shape = stem[len("claw_"):] if stem.startswith("claw_") else stem
    if shape not in SHAPES:
        raise ValueError("sample file %r is not claw_<shape>.xml with a shape in %s" % (file_name, SHAPES))
    return shape


def _fields(parent):
    out = {}
    if parent is None:
        return out
    for field in parent.findall("field"):
        name, value = field.get("name"), field.get("value")
        if name in out:
            raise ValueError("field %r listed twice" % name)
        out[name] = value
    return out


def _parse_file(path, meta):
    shape = shape_of(path)
    root = ET.parse(path).getroot()
    if root.tag != "device":
        raise ValueError("%s: root element is <%s>, not <device>" % (path, root.tag))
    for event in root.findall("event"):
        case = event.get("name")
        transport = event.find("transport")
        transport = transport.attrib if transport is not None else {}
        raw_el = event.find("raw")
        if raw_el is None or raw_el.text is None:
            raise ValueError("%s: event %r has no <raw>" % (path, case))
        cim = event.find("cim")
        models = [m.text for m in cim.findall("models/model")] if cim is not None else []
        expected = _fields(cim.find("cim_fields") if cim is not None else None)
        for name, value in _fields(event.find("other_mappings")).items():
            if name in expected:
                raise ValueError("%s: event %r lists %r twice" % (path, case, name))
            expected[name] = value
        host = transport.get("host") or meta.get("host")
        indexed = {}
        if shape == "journald":
            indexed = {"_SYSTEMD_UNIT": SYSTEMD_UNIT, "_HOSTNAME": host}
        yield Sample(
            name="%s:%s" % (shape, case), case=case, shape=shape,
            sourcetype=transport.get("sourcetype") or meta["sourcetype"],
            source=transport.get("source") or meta["source"], host=host,
            raw=raw_el.text.strip(), event_type=expected.get("event_type"),
            expected=expected, models=models, input_type=meta.get("input_type", "default"),
            indexed_fields=indexed)


def load_samples(shapes=None):
    """Every sample, in conf order then file order; ``shapes`` limits to some shapes."""
    samples = []
    for file_name, meta in read_conf().items():
        shape = shape_of(file_name)
        if shapes is not None and shape not in shapes:
            continue
        samples.extend(_parse_file(os.path.join(SAMPLES_DIR, file_name), meta))
    return samples


CRI_LINE = re.compile(r"^(\S+) (stdout|stderr) ([PF]) (.*)$")
HEC_WRAPPER_KEYS = ("kubernetes", "stream", "logtag", "log")


def claw_text(sample):
    """The claw line a sample carries, as text (None for a Merge_Log On record).

    Read straight from the delivery shape, independently of claw_ta_tools.normalize:
    CRI prefixes removed and partials joined, ``log`` / ``MESSAGE`` unwrapped.
    """
    if sample.shape in ("raw", "journald"):
        return sample.raw
    if sample.shape == "cri":
        parts = []
        for line in sample.raw.split("\n"):
            match = CRI_LINE.match(line)
            if not match:
                raise ValueError("%s: not a CRI line: %r" % (sample.name, line[:80]))
            parts.append(match.group(4))
        return "".join(parts)
    record = json.loads(sample.raw)
    if sample.shape == "fluentbit_systemd":
        return record["MESSAGE"]
    return record.get("log")  # hec_log, or hec_merged when Merge_Log could not parse the line


def claw_event(sample):
    """The claw event object a sample carries, or None when its line is not a JSON object."""
    text = claw_text(sample)
    if text is None:  # Merge_Log On: claw fields at the top level beside the wrapper keys
        record = json.loads(sample.raw)
        return {k: v for k, v in record.items() if k not in HEC_WRAPPER_KEYS}
    try:
        obj = json.loads(text)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


def sample_ids(samples):
    """pytest ids for parametrizing over samples."""
    return [s.name for s in samples]
