"""CycloneDX 1.1-1.6, JSON and XML.

Subject: ``metadata.component`` (its SHA-256 hash; also an image digest in its
``version`` or an ``pkg:oci`` purl, as Syft writes for images). Libraries:
``components[]`` nested at any depth. A ``type: file`` component whose name is
a path is a file (its hashes are the file's). A package component yields one
file per location it gives (``evidence.occurrences[].location``, Syft's
``syft:location:N:path`` properties), and is otherwise listed as a package
without files. A package's hashes describe its archive, not the files it
installs, so they are kept only on the package-without-files entry (for
digest matching) and never compared against a file path.
"""
import re

from claw_ta.sbom.model import MAX_DEPTH, Entry, SbomDocument, SbomError, check_entries
from claw_ta.sbom.paths import normalize_digest

_SYFT_LOCATION = re.compile(r"^syft:location:\d+:path$")
_OCI_DIGEST = re.compile(r"@sha256(?::|%3[Aa])([0-9a-fA-F]{64})")


def _sha256(hashes):
    for alg, content in hashes:
        if alg.replace("-", "").replace("_", "").upper() == "SHA256":
            digest = normalize_digest(content)
            if digest:
                return digest
    return ""


# --- JSON --------------------------------------------------------------------

def _json_component(comp):
    """(type, name, version, purl, hashes, locations, children) of a JSON component."""
    if not isinstance(comp, dict):
        raise SbomError("a component is not an object")
    hashes = [(h.get("alg") or "", h.get("content") or "") for h in comp.get("hashes") or ()
              if isinstance(h, dict)]
    locations = []
    evidence = comp.get("evidence")
    if isinstance(evidence, dict):
        for occ in evidence.get("occurrences") or ():
            if isinstance(occ, dict) and occ.get("location"):
                locations.append(str(occ["location"]))
    for prop in comp.get("properties") or ():
        if isinstance(prop, dict) and _SYFT_LOCATION.match(str(prop.get("name") or "")):
            if prop.get("value"):
                locations.append(str(prop["value"]))
    children = comp.get("components") or []
    if not isinstance(children, list):
        raise SbomError("components is not a list")
    return (str(comp.get("type") or ""), str(comp.get("name") or ""),
            str(comp.get("version") or ""), str(comp.get("purl") or ""),
            hashes, locations, children)


def parse_json(doc, name):
    if not isinstance(doc.get("components", []), list):
        raise SbomError("CycloneDX components is not a list")
    meta = doc.get("metadata") or {}
    subject = meta.get("component") if isinstance(meta, dict) else None
    ref = str(doc.get("serialNumber") or name)
    return _build("cyclonedx", ref, _json_component(subject) if isinstance(subject, dict) else None,
                  doc.get("components") or [], _json_component)


# --- XML ---------------------------------------------------------------------

def _text(elem, tag):
    child = elem.find(tag)
    return (child.text or "").strip() if child is not None else ""


def _xml_component(elem):
    hashes = [(h.get("alg") or "", (h.text or "").strip()) for h in elem.iterfind("hashes/hash")]
    locations = [(loc.text or "").strip()
                 for loc in elem.iterfind("evidence/occurrences/occurrence/location")]
    locations += [(occ.get("location") or "").strip()
                  for occ in elem.iterfind("evidence/occurrences/occurrence") if occ.get("location")]
    for prop in elem.iterfind("properties/property"):
        if _SYFT_LOCATION.match(prop.get("name") or "") and (prop.text or "").strip():
            locations.append(prop.text.strip())
    children = list(elem.iterfind("components/component"))
    return (elem.get("type") or "", _text(elem, "name"), _text(elem, "version"),
            _text(elem, "purl"), hashes, [loc for loc in locations if loc], children)


def parse_xml(root, name):
    if root.tag != "bom":
        raise SbomError("XML root is <%s>, not a CycloneDX <bom>" % root.tag)
    subject = root.find("metadata/component")
    ref = root.get("serialNumber") or name
    return _build("cyclonedx", ref, _xml_component(subject) if subject is not None else None,
                  list(root.iterfind("components/component")), _xml_component)


# --- both --------------------------------------------------------------------

def _subject_digests(subject):
    if subject is None:
        return []
    ctype, cname, version, purl, hashes, _, _ = subject
    found = [_sha256(hashes)]
    found.append(normalize_digest(version))  # Syft: an image's version is its digest
    match = _OCI_DIGEST.search(purl)
    if match:
        found.append(match.group(1).lower())
    return [d for d in found if d]


def _build(fmt, ref, subject, top, describe):
    """Walk components iteratively (no recursion limit), bounded in depth and count."""
    entries = []
    count = 0
    stack = [(comp, 1, None) for comp in reversed(top)]
    while stack:
        comp, depth, parent = stack.pop()
        if depth > MAX_DEPTH:
            raise SbomError("components nested deeper than %d levels (limit MAX_DEPTH)" % MAX_DEPTH)
        count += 1
        check_entries(count)
        ctype, cname, version, purl, hashes, locations, children = describe(comp)
        digest = _sha256(hashes)
        if ctype == "file":
            pkg = parent or ("", "", "")
            entries.append(Entry(cname, digest, pkg[0], pkg[1], pkg[2]))
            for loc in locations:
                if loc != cname:
                    entries.append(Entry(loc, digest, pkg[0], pkg[1], pkg[2]))
            me = parent
        else:
            # (JSON dicts and XML elements both answer .get("type"))
            has_files = any(child.get("type") == "file" for child in children)
            for loc in locations:
                entries.append(Entry(loc, "", cname, version, purl))
            if not locations and not has_files and (cname or purl or digest):
                entries.append(Entry("", digest, cname, version, purl))
            me = (cname, version, purl)
        for child in reversed(children):
            stack.append((child, depth + 1, me))
    return SbomDocument(fmt, ref, _subject_digests(subject), entries, count)
