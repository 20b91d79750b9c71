"""SPDX 2.2/2.3 JSON.

Subject: each element the document DESCRIBES (``documentDescribes`` or a
``SPDXRef-DOCUMENT DESCRIBES x`` relationship; ``x DESCRIBED_BY`` the
document too), identified by its SHA256 checksum (or an ``pkg:oci`` purl
digest). Libraries: every other file (``fileName``, SHA256 checksum when
there is one: SHA1-only files match by path only) and every package without
files. A file's package is the package that CONTAINS it (or lists it in
``hasFiles``).
"""
import re

from claw_ta.sbom.model import Entry, SbomDocument, SbomError, check_entries
from claw_ta.sbom.paths import normalize_digest

_OCI_DIGEST = re.compile(r"@sha256(?::|%3[Aa])([0-9a-fA-F]{64})")


def _sha256(element):
    for checksum in element.get("checksums") or ():
        if isinstance(checksum, dict) and str(checksum.get("algorithm", "")).upper().replace("-", "") == "SHA256":
            digest = normalize_digest(str(checksum.get("checksumValue") or ""))
            if digest:
                return digest
    return ""


def _purl(element):
    for ref in element.get("externalRefs") or ():
        if isinstance(ref, dict) and ref.get("referenceType") == "purl":
            return str(ref.get("referenceLocator") or "")
    return ""


def parse(doc, name):
    files = doc.get("files") or []
    packages = doc.get("packages") or []
    relationships = doc.get("relationships") or []
    if not all(isinstance(x, list) for x in (files, packages, relationships)):
        raise SbomError("SPDX files/packages/relationships must be lists")
    check_entries(len(files) + len(packages))
    elements = {}
    for element in files + packages:
        if not isinstance(element, dict):
            raise SbomError("an SPDX file or package is not an object")
        elements[element.get("SPDXID")] = element
    doc_id = doc.get("SPDXID") or "SPDXRef-DOCUMENT"
    described = list(doc.get("documentDescribes") or [])
    owner = {}  # file SPDXID -> package
    for package in packages:
        for file_id in package.get("hasFiles") or ():
            owner.setdefault(file_id, package)
    for rel in relationships:
        if not isinstance(rel, dict):
            continue
        kind = rel.get("relationshipType")
        left, right = rel.get("spdxElementId"), rel.get("relatedSpdxElement")
        if kind == "DESCRIBES" and left == doc_id:
            described.append(right)
        elif kind == "DESCRIBED_BY" and right == doc_id:
            described.append(left)
        elif kind == "CONTAINS" and left in elements and right in elements:
            if "fileName" not in elements[left]:
                owner.setdefault(right, elements[left])
        elif kind == "CONTAINED_BY" and left in elements and right in elements:
            if "fileName" not in elements[right]:
                owner.setdefault(left, elements[right])
    described = list(dict.fromkeys(d for d in described if d in elements))
    if not described:
        raise SbomError("SPDX document DESCRIBES no package or file it contains")
    subjects = []
    for element_id in described:
        element = elements[element_id]
        subjects.append(_sha256(element))
        match = _OCI_DIGEST.search(_purl(element))
        if match:
            subjects.append(match.group(1).lower())
    with_files = set(id(p) for p in owner.values())
    entries = []
    for element in files:
        if element.get("SPDXID") in described:
            continue
        pkg = owner.get(element.get("SPDXID")) or {}
        entries.append(Entry(str(element.get("fileName") or ""), _sha256(element),
                             str(pkg.get("name") or ""), str(pkg.get("versionInfo") or ""), _purl(pkg)))
    for package in packages:
        if package.get("SPDXID") in described or id(package) in with_files:
            continue
        entries.append(Entry("", _sha256(package), str(package.get("name") or ""),
                             str(package.get("versionInfo") or ""), _purl(package)))
    ref = str(doc.get("documentNamespace") or name)
    return SbomDocument("spdx", ref, subjects, entries, len(files) + len(packages))
