"""Poisoned documents never stop the index: every parser fuzzed with broken documents next to a good one.

Seeded and bounded: each format's seed document (CycloneDX JSON and XML, SPDX 2
and 3, in-toto link, statement and DSSE envelope, OCI image index) is broken
at random (values replaced with other JSON types or with lone-surrogate
escapes such as ``\\ud800``, keys dropped, bytes flipped, text cut), indexed
beside a good document, and the tables written: nothing escapes, the good
document is always indexed, a broken one is either indexed or named with a
reason.
"""
import json
import os
import random

import pytest

from claw_ta.sbom.index import Tables, build_tables
from tests.paths import DATA
from tests.test_sbom_shapes import buildkit_index, cdxgen_spdx3, envelope

SBOM_DATA = os.path.join(DATA, "sbom")
GOOD = os.path.join(SBOM_DATA, "orders-nested.cdx.xml")
GOOD_REF = "urn:uuid:7f0c7e0e-3c9a-4f4e-9d8e-0d6c1d0f2a11"
ROUNDS = 120  # per seed and way of breaking it


def _read(name):
    with open(os.path.join(SBOM_DATA, name), "rb") as handle:
        return handle.read()


def seeds():
    statement = json.loads(_read("scheduler.intoto.jsonl").splitlines()[0])
    return {
        "cyclonedx-json": _read("alpine-image.cdx.json"),
        "cyclonedx-xml": _read("orders-nested.cdx.xml"),
        "spdx2": _read("report-tool.spdx.json"),
        "spdx3": json.dumps(cdxgen_spdx3()).encode(),
        "in-toto-link": _read("build-ingest.abcd1234.link"),
        "in-toto-statement": json.dumps(statement).encode(),
        "dsse": envelope(statement).encode(),
        "oci-index": buildkit_index(),
    }


POISON = ["\ud800", "lib\udfffz.so", "\udc80" * 3, "a\ud83d", "\x00", "\u202e", "\ufeff", "..", "/x/\\..\\y",
          " /usr/lib/libz.so.1\u00a0", "sha256:" + "\ud800" * 64, "pkg:oci/x@sha256:" + "0" * 63 + "\ud800"]


def _other(rng, depth=0):
    choice = rng.randrange(11)
    if choice == 0:
        return rng.choice(POISON)
    if choice == 1:
        return None
    if choice == 2:
        return rng.choice([0, -1, 2 ** 80, 1.5e308, True])
    if choice == 3:
        return []
    if choice == 4:
        return {}
    if choice == 5 and depth < 3:
        return [_other(rng, depth + 1) for _ in range(rng.randrange(1, 4))]
    if choice == 6 and depth < 3:
        return {rng.choice(POISON): _other(rng, depth + 1)}
    if choice == 7:
        return "x" * rng.randrange(0, 3000)
    if choice == 8:
        return rng.choice(POISON) + "/usr/lib/libc.so.6"
    return rng.choice(["", "file", "container", "CycloneDX", "SPDX-2.3", "sha256", "SHA256", "DESCRIBES"])


def _nodes(value, path=()):
    yield path, value
    if isinstance(value, dict):
        for key, child in list(value.items()):
            yield from _nodes(child, path + (key,))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _nodes(child, path + (i,))


def _mutate_json(rng, doc):
    doc = json.loads(json.dumps(doc))
    for _ in range(rng.randrange(1, 4)):
        nodes = list(_nodes(doc))
        path, value = rng.choice(nodes)
        if not path:
            continue
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        action = rng.randrange(4)
        if action == 0 and isinstance(parent, dict):
            del parent[path[-1]]
        elif action == 1 and isinstance(value, str):
            at = rng.randrange(len(value) + 1)
            parent[path[-1]] = value[:at] + rng.choice(POISON) + value[at:]
        elif action == 2 and isinstance(parent, dict):
            parent[rng.choice(POISON)] = parent.pop(path[-1])
        else:
            parent[path[-1]] = _other(rng)
    return json.dumps(doc).encode()  # lone surrogates become \\ud800 escapes


def _mutate_bytes(rng, data):
    data = bytearray(data)
    action = rng.randrange(4)
    if action == 0:
        return bytes(data[:rng.randrange(len(data))])
    if action == 1:
        for _ in range(rng.randrange(1, 20)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        return bytes(data)
    if action == 2:  # a lone surrogate escape or character reference somewhere in the text
        at = rng.randrange(len(data))
        return bytes(data[:at]) + rng.choice([b"\\ud800", b"&#xD800;", b"\xed\xa0\x80", b"\\u0000", b"\"", b"<"]) \
            + bytes(data[at:])
    start = rng.randrange(len(data))
    return bytes(data[:start] + data[start:start + rng.randrange(1, 200)] * rng.randrange(2, 5)
                 + data[start:])


def _check(tmp_path, tables, errors, names):
    subjects, libraries = str(tmp_path / "s.csv"), str(tmp_path / "l.csv")
    tables.write(subjects, libraries)
    with open(subjects, encoding="utf-8") as handle:
        assert GOOD_REF in handle.read(), "the good document must be indexed"
    assert set(name for name, _ in errors) <= set(names)
    for _, reason in errors:
        assert reason and isinstance(reason, str)


@pytest.mark.parametrize("fmt", sorted(seeds()) + ["cyclonedx-json-streamed", "spdx2-streamed"])
def test_broken_documents_of_every_format_are_skipped_and_the_good_one_indexed(tmp_path, fmt, monkeypatch):
    if fmt.endswith("-streamed"):  # a large document is read one component at a time: the same rules
        from claw_ta.sbom import jsonstream
        monkeypatch.setattr(jsonstream, "STREAM_ABOVE", 0)
        fmt = fmt[:-len("-streamed")]
    seed = seeds()[fmt]
    rng = random.Random("fuzz:" + fmt)
    tables = Tables()
    with open(GOOD, "rb") as handle:
        good = handle.read()
    assert tables.add_text(good, "good.cdx.xml") == []
    errors, names = [], []
    for round_ in range(ROUNDS):
        if fmt == "cyclonedx-xml":
            broken = _mutate_bytes(rng, seed)
        else:
            broken = _mutate_json(rng, json.loads(seed)) if round_ % 2 else _mutate_bytes(rng, seed)
        name = "broken-%d.json" % round_
        names.append(name)
        errors.extend(tables.add_text(broken, name))  # bytes, as the CLI reads files
        try:
            text = broken.decode("utf-8")
        except UnicodeDecodeError:
            continue
        errors.extend(tables.add_text(text, name))    # str, as clawsbomindex gets _raw
    _check(tmp_path, tables, errors, names)
    tables.close()


def test_lone_surrogate_in_each_field_is_skipped_and_named(tmp_path):
    """A ``\\ud800`` in a name, version, serial number, namespace or URI: the document is skipped, named."""
    folder = tmp_path / "sboms"
    folder.mkdir()
    with open(GOOD, "rb") as handle:
        (folder / "good.cdx.xml").write_bytes(handle.read())
    cdx = json.loads(_read("alpine-image.cdx.json"))
    spdx = json.loads(_read("report-tool.spdx.json"))
    poisoned = {
        "serial.cdx.json": dict(cdx, serialNumber="urn:uuid:\ud800"),
        "name.cdx.json": dict(cdx, components=[dict(cdx["components"][0], name="musl\ud800")]),
        "version.cdx.json": dict(cdx, components=[dict(cdx["components"][0], version="1.2\udfff")]),
        "purl.cdx.json": dict(cdx, components=[dict(cdx["components"][0], purl="pkg:apk/alpine/\ud800")]),
        "namespace.spdx.json": dict(spdx, documentNamespace="https://example.com/\ud800"),
        "file.spdx.json": dict(spdx, files=[dict(f, fileName="/usr/lib/\ud800.so") for f in spdx.get("files", [])]),
    }
    for name, doc in poisoned.items():
        (folder / name).write_text(json.dumps(doc), encoding="ascii")
    tables, errors = build_tables([str(folder)])
    reasons = dict(errors)
    assert sorted(reasons) == sorted(poisoned), errors
    assert all("surrogate" in reason for reason in reasons.values()), reasons
    _check(tmp_path, tables, errors, list(poisoned))
