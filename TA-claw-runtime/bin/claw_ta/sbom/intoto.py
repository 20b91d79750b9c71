"""in-toto link metadata (v0.9 ``.link``) and in-toto attestation statements.

Link: ``signed.products`` are the subjects (kind "file": the built files, by
sha256) and ``signed.materials`` plus the products are the files they may
load, each (path, digest) once; paths are relative to the step's working
directory, so they often match by digest only. A DSSE envelope
(``payloadType``/``payload``, also inside a Sigstore bundle's
``dsseEnvelope``) is unwrapped first.

Statement (``_type`` ``https://in-toto.io/Statement/v0.1`` or ``v1``): every
``subject[].digest.sha256`` is a subject, its kind read from its name (an image
reference or ``pkg:docker`` purl: manifest; a path or file name: file). The
libraries come from the predicate: an embedded CycloneDX, SPDX 2 or SPDX 3
document (its own subject digests are added; an SPDX document that describes
nothing takes the statement's), cosign's older ``{"Data": <document or JSON
text>, "Timestamp": ...}`` wrapper, SLSA provenance ``materials`` (v0.2) or
``buildDefinition.resolvedDependencies`` (v1), or an in-toto link predicate's
``materials``. A predicate that lists no library says why (SbomError).
"""
import base64
import binascii
import hashlib
import json

from claw_ta.sbom import cyclonedx, spdx, spdx3
from claw_ta.sbom.model import Entry, SbomDocument, SbomError, check_entries
from claw_ta.sbom.paths import normalize_digest
from claw_ta.sbom.subjects import (CONFIG_ONLY, PRODUCER_ONLY, file_digest, only_kind_warnings,
                                   statement_subject_kind)


def unwrap(doc):
    """The in-toto payload of a DSSE envelope or Sigstore bundle (else ``doc``)."""
    return unwrap_payload(doc)[0]


def unwrap_payload(doc):
    """(payload object, sha256 hex of the payload bytes) of a DSSE envelope or Sigstore bundle, else (doc, "").

    The digest names the exact bytes parsed, so a signature check can tell that
    what was indexed is what was signed (claw_ta_tools.attest).
    """
    if isinstance(doc.get("dsseEnvelope"), dict):
        doc = doc["dsseEnvelope"]
    if "payloadType" in doc and "payload" in doc:
        try:
            payload = base64.b64decode(doc["payload"], validate=False)
            inner = json.loads(payload.decode("utf-8"))
        except (binascii.Error, ValueError, UnicodeDecodeError, TypeError) as error:
            raise SbomError("DSSE payload is not base64 JSON: %s" % error)
        if not isinstance(inner, dict):
            raise SbomError("DSSE payload is not a JSON object")
        return inner, hashlib.sha256(payload).hexdigest()
    return doc, ""


def is_link(doc):
    signed = doc.get("signed") if isinstance(doc.get("signed"), dict) else doc
    return signed.get("_type") == "link"


def is_statement(doc):
    return "in-toto.io/Statement" in str(doc.get("_type", "")) and "subject" in doc


def _artifacts(mapping, what):
    """[(path, sha256, other algorithm)] of an in-toto ``{path: {alg: hex}}`` mapping."""
    if not isinstance(mapping, dict):
        raise SbomError("in-toto link %s is not an object of path -> digests" % what)
    check_entries(len(mapping))
    out = []
    for path, digests in mapping.items():
        sha, other = file_digest(digests.items()) if isinstance(digests, dict) else ("", "")
        out.append((str(path), sha, other))
    return out


def _unique_entries(artifacts, name=""):
    """One file entry per (path, digest): a material that is also a product is listed once."""
    seen = {}
    for path, sha, other in artifacts:
        seen.setdefault((path, sha), Entry(path, sha, name, kind="file", other_digest=other))
    return list(seen.values())


def parse_link(doc, name):
    signed = doc.get("signed") if isinstance(doc.get("signed"), dict) else doc
    materials = _artifacts(signed.get("materials") or {}, "materials")
    products = _artifacts(signed.get("products") or {}, "products")
    out = SbomDocument("in-toto-link", name, (), _unique_entries(materials + products, str(signed.get("name") or "")),
                       len(materials) + len(products))
    for _, digest, _ in products:
        out.add_subject(digest, "file")
    return out


def _descriptor_entries(items):
    """File entries from SLSA / in-toto ResourceDescriptors (``uri``/``name`` + ``digest``).

    Only files (a ``file://`` URI or a path) are libraries; build inputs named by
    other URIs (git repositories, ``pkg:docker`` base images) are not.
    """
    if isinstance(items, dict):  # link predicate v0.2 style {path: digests}
        return _unique_entries(_artifacts(items, "materials"))
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
        if not path:
            continue  # a source repository, a base or builder image, a package URL: not a file it loads
        entries.append(Entry(path, digest, kind="file"))
    return entries


def _cosign_data(predicate, ptype):
    """The document inside cosign's older ``{"Data": ..., "Timestamp": ...}`` predicate."""
    data = predicate.get("Data")
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError:
            raise SbomError("the predicate (%s) is cosign's Data wrapper around text that is not "
                            "JSON: not an SBOM" % (ptype or "no predicateType"))
    if not isinstance(data, dict) or not _embedded(data):
        keys = ", ".join(sorted(data)[:5]) if isinstance(data, dict) else type(data).__name__
        raise SbomError("the predicate (%s) is cosign's Data wrapper around a document that is not "
                        "an SBOM (%s): nothing to index" % (ptype or "no predicateType", keys))
    return data


def _embedded(predicate):
    """The parser of an SBOM embedded as a predicate, or None."""
    if predicate.get("bomFormat") == "CycloneDX":
        return cyclonedx.parse_json
    if str(predicate.get("spdxVersion", "")).startswith("SPDX-"):
        return spdx.parse
    if spdx3.is_spdx3(predicate):
        return spdx3.parse
    return None


def parse_statement(doc, name):
    subjects = doc.get("subject")
    if not isinstance(subjects, list):
        raise SbomError("in-toto statement subject is not a list")
    predicate = doc.get("predicate") or {}
    ptype = str(doc.get("predicateType") or "")
    if not isinstance(predicate, dict):
        raise SbomError("in-toto statement predicate is not an object")
    if "Data" in predicate and not _embedded(predicate):
        predicate = _cosign_data(predicate, ptype)
    parser = _embedded(predicate)
    if parser is not None:
        out = parser(predicate, name)
        out.format, out.ref = "in-toto-statement", name
        out.warnings = [w for w in out.warnings if w != spdx.NO_SUBJECT]
    else:
        entries = _descriptor_entries(predicate.get("materials") or [])
        build = predicate.get("buildDefinition")
        if isinstance(build, dict):
            entries += _descriptor_entries(build.get("resolvedDependencies") or [])
        if not entries:
            raise SbomError("the predicate (%s) lists no file or library: build provenance and other "
                            "attestations that are not SBOMs cannot vouch for a library"
                            % (ptype or "no predicateType"))
        out = SbomDocument("in-toto-statement", name, (), entries, len(entries))
    inner = [(digest, out.subject_kinds[digest]) for digest in out.subjects]
    out.subjects, out.subject_kinds = [], {}
    for subject in subjects:
        if isinstance(subject, dict) and isinstance(subject.get("digest"), dict):
            out.add_subject(normalize_digest(str(subject["digest"].get("sha256") or "")),
                            statement_subject_kind(str(subject.get("name") or "")))
    for digest, kind in inner:
        out.add_subject(digest, kind)
    out.warnings = [w for w in out.warnings if w not in (CONFIG_ONLY, PRODUCER_ONLY)]
    return only_kind_warnings(out)
