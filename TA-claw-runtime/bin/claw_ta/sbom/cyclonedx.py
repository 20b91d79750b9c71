"""CycloneDX 1.1-1.6, JSON and XML.

Subject (``metadata.component``): its SHA-256 hash, an ``pkg:oci`` purl
digest, a ``sha256:`` version (syft: a digest syft computed, kind "producer"),
Trivy's ``aquasecurity:trivy:RepoDigest`` (manifest) and ``ImageID`` (config)
properties. Libraries: ``components[]`` nested at any depth.

- A ``type: file`` component is a file: its name is the path, its SHA-256
  hash the file's digest (only SHA-1/MD5: ``other_digest``). A bare file name
  (no directory, as cdxgen writes) is no usable path: with a SHA-256 it is kept
  as a digest-only file, otherwise it is counted in a warning and skipped.
- Any other component is a package, listed without files unless it nests
  ``type: file`` components. Where a producer *found* it (syft's
  ``syft:location:N:path``, ``evidence.occurrences``, Trivy's ``FilePath``:
  ``/lib/apk/db/installed``, ``/var/lib/dpkg/status``, a copyright file) is
  evidence, never a file of the package.
- Image components (``pkg:oci`` purls: base images, layers) are not libraries.
"""
from claw_ta.sbom.model import MAX_DEPTH, Entry, SbomDocument, SbomError, check_entries
from claw_ta.sbom.paths import normalize_digest
from claw_ta.sbom.subjects import (bare_warning, file_digest, file_entry, oci_purl, only_kind_warnings,
                                   repo_digest)

_TRIVY = "aquasecurity:trivy:"


# --- JSON --------------------------------------------------------------------

def _json_component(comp):
    """(type, name, version, purl, hashes, properties, children) of a JSON component."""
    if not isinstance(comp, dict):
        raise SbomError("a component is not an object")
    hashes = [(h.get("alg") or "", h.get("content") or "") for h in comp.get("hashes") or ()
              if isinstance(h, dict)]
    props = [(str(p.get("name") or ""), str(p.get("value") or "")) for p in comp.get("properties") or ()
             if isinstance(p, dict)]
    children = comp.get("components") or []
    if not isinstance(children, list):
        raise SbomError("components is not a list")
    return (str(comp.get("type") or ""), str(comp.get("name") or ""),
            str(comp.get("version") or ""), str(comp.get("purl") or ""),
            hashes, props, children)


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
    props = [(p.get("name") or "", (p.text or "").strip()) for p in elem.iterfind("properties/property")]
    children = list(elem.iterfind("components/component"))
    return (elem.get("type") or "", _text(elem, "name"), _text(elem, "version"),
            _text(elem, "purl"), hashes, props, children)


def parse_xml(root, name):
    if root.tag != "bom":
        raise SbomError("XML root is <%s>, not a CycloneDX <bom>" % root.tag)
    subject = root.find("metadata/component")
    ref = root.get("serialNumber") or name
    return _build("cyclonedx", ref, _xml_component(subject) if subject is not None else None,
                  list(root.iterfind("components/component")), _xml_component)


# --- both --------------------------------------------------------------------

def _add_subjects(doc, subject):
    """Every digest ``metadata.component`` offers, with its kind."""
    if subject is None:
        return
    ctype, _, version, purl, hashes, props, _ = subject
    digest, kind = oci_purl(purl)
    if kind in ("index", "manifest"):
        doc.add_subject(digest, kind)
    for prop, value in props:
        if prop == _TRIVY + "RepoDigest":
            doc.add_subject(repo_digest(value), "manifest")
    for prop, value in props:
        if prop == _TRIVY + "ImageID":
            doc.add_subject(normalize_digest(value), "config")
    sha, _ = file_digest(hashes)
    doc.add_subject(sha, "manifest" if ctype == "container" else
                    "file" if ctype in ("file", "application", "library", "firmware") else "unknown")
    doc.add_subject(normalize_digest(version), "producer")


def _build(fmt, ref, subject, top, describe):
    """The document of ``top`` components (a list, or any iterable: claw_ta.sbom.cdxstream)."""
    entries, count, skipped = component_entries(top, describe)
    return finish(fmt, ref, subject, entries, count, skipped)


def component_entries(top, describe):
    """(entries, components seen, bare file names skipped) of the ``top`` components and everything they
    nest: each top component walked iteratively (no recursion limit), bounded in depth and count."""
    entries = []
    skipped = 0
    count = 0
    for first in top:
        stack = [(first, 1, None)]
        while stack:
            comp, depth, parent = stack.pop()
            if depth > MAX_DEPTH:
                raise SbomError("components nested deeper than %d levels (limit MAX_DEPTH)" % MAX_DEPTH)
            count += 1
            check_entries(count)
            ctype, cname, version, purl, hashes, _, children = describe(comp)
            me = parent
            if ctype == "file":
                entry, bare = file_entry(cname, hashes, parent or ("", "", ""))
                entries.extend([entry] if entry else [])
                skipped += bare
            elif not oci_purl(purl)[0]:
                # (JSON dicts and XML elements both answer .get("type"))
                if not any(child.get("type") == "file" for child in children) and (cname or purl):
                    entries.append(Entry("", file_digest(hashes)[0], cname, version, purl, kind="package"))
                me = (cname, version, purl)
            for child in reversed(children):
                stack.append((child, depth + 1, me))
    return entries, count, skipped


def finish(fmt, ref, subject, entries, count, skipped):
    doc = SbomDocument(fmt, ref, (), entries, count)
    _add_subjects(doc, subject)
    if skipped:
        doc.warnings.append(bare_warning(skipped))
    return only_kind_warnings(doc)
