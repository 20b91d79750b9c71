"""in-toto link metadata (v0.9 ``.link``) and in-toto attestation statements.

Link: ``signed.products`` are the subjects (the built binary, by sha256) and
``signed.materials`` plus the products are the files it may load; their paths
are relative to the step's working directory, so they often match by digest
only. A DSSE envelope (``payloadType``/``payload``, also inside a Sigstore
bundle's ``dsseEnvelope``) is unwrapped first.

Statement (``_type`` ``https://in-toto.io/Statement/v0.1`` or ``v1``): the
``subject[].digest.sha256`` are the subjects; the libraries come from the
predicate: an embedded CycloneDX or SPDX document, SLSA provenance
``materials`` (v0.2) or ``buildDefinition.resolvedDependencies`` (v1), or an
in-toto link predicate's ``materials``.
"""
import base64
import binascii
import json

from claw_ta.sbom import cyclonedx, spdx
from claw_ta.sbom.model import Entry, SbomDocument, SbomError, check_entries
from claw_ta.sbom.paths import normalize_digest


def unwrap(doc):
    """The in-toto payload of a DSSE envelope or Sigstore bundle (else ``doc``)."""
    if isinstance(doc.get("dsseEnvelope"), dict):
        doc = doc["dsseEnvelope"]
    if "payloadType" in doc and "payload" in doc:
        try:
            payload = base64.b64decode(doc["payload"], validate=False)
            inner = json.loads(payload.decode("utf-8"))
        except (binascii.Error, ValueError, UnicodeDecodeError) as error:
            raise SbomError("DSSE payload is not base64 JSON: %s" % error)
        if not isinstance(inner, dict):
            raise SbomError("DSSE payload is not a JSON object")
        return inner
    return doc


def is_link(doc):
    signed = doc.get("signed") if isinstance(doc.get("signed"), dict) else doc
    return signed.get("_type") == "link"


def is_statement(doc):
    return "in-toto.io/Statement" in str(doc.get("_type", "")) and "subject" in doc


def _artifacts(mapping, what):
    if not isinstance(mapping, dict):
        raise SbomError("in-toto link %s is not an object of path -> digests" % what)
    check_entries(len(mapping))
    out = []
    for path, digests in mapping.items():
        digest = normalize_digest(str((digests or {}).get("sha256") or "")) if isinstance(digests, dict) else ""
        out.append((str(path), digest))
    return out


def parse_link(doc, name):
    signed = doc.get("signed") if isinstance(doc.get("signed"), dict) else doc
    materials = _artifacts(signed.get("materials") or {}, "materials")
    products = _artifacts(signed.get("products") or {}, "products")
    subjects = [digest for _, digest in products]
    entries = [Entry(path, digest, str(signed.get("name") or "")) for path, digest in materials + products]
    return SbomDocument("in-toto-link", name, subjects, entries, len(materials) + len(products))


def _descriptor_entries(items):
    """Entries from SLSA / in-toto ResourceDescriptors (``uri``/``name`` + ``digest``)."""
    if isinstance(items, dict):  # link predicate v0.2 style {path: digests}
        return [Entry(path, digest) for path, digest in _artifacts(items, "materials")]
    if not isinstance(items, list):
        return []
    check_entries(len(items))
    entries = []
    for item in items:
        if not isinstance(item, dict):
            continue
        uri = str(item.get("uri") or item.get("name") or "")
        digest = normalize_digest(str((item.get("digest") or {}).get("sha256") or ""))
        path = ""
        if uri.startswith("file://"):
            path = uri[7:]
        elif uri and "://" not in uri and ":" not in uri.split("/", 1)[0]:
            path = uri
        if not path and not digest:
            continue  # a source repository (gitCommit digest) or the like: not a loadable file
        name = uri.rsplit("/", 1)[-1].split("@", 1)[0] if not path else ""
        entries.append(Entry(path, digest, name))
    return entries


def parse_statement(doc, name):
    subjects = doc.get("subject")
    if not isinstance(subjects, list):
        raise SbomError("in-toto statement subject is not a list")
    digests = [normalize_digest(str((s.get("digest") or {}).get("sha256") or ""))
               for s in subjects if isinstance(s, dict) and isinstance(s.get("digest"), dict)]
    predicate = doc.get("predicate") or {}
    ptype = str(doc.get("predicateType") or "")
    if not isinstance(predicate, dict):
        raise SbomError("in-toto statement predicate is not an object")
    if "cyclonedx" in ptype.lower() or predicate.get("bomFormat") == "CycloneDX":
        inner = cyclonedx.parse_json(predicate, name)
        entries, count = inner.entries, inner.components
    elif "spdx" in ptype.lower() or "spdxVersion" in predicate:
        inner = spdx.parse(predicate, name)
        entries, count = inner.entries, inner.components
    else:
        entries = _descriptor_entries(predicate.get("materials") or [])
        build = predicate.get("buildDefinition")
        if isinstance(build, dict):
            entries += _descriptor_entries(build.get("resolvedDependencies") or [])
        count = len(entries)
    return SbomDocument("in-toto-statement", name, digests, entries, count)
