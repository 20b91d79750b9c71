"""SPDX 3.0 / 3.0.1 JSON-LD (``"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld"``).

The document is a flat ``@graph`` of typed elements, each with an ``spdxId``
(cdxgen writes this format). Subject: the ``rootElement`` of the
``SpdxDocument`` / ``software_Sbom`` (followed through an Sbom that is itself a
root) and whatever a ``describes`` relationship names, by its ``sha256``
``verifiedUsing`` hash, its ``pkg:oci`` purl digest, a ``sha256:`` package
version (producer). Multi-arch: ``hasVariant`` targets of an index are its
``children``.

Libraries: every ``software_File`` (``name`` is its path; a bare file name
without a directory matches by SHA-256 only, or is skipped with a warning)
except evidence (``hasEvidence`` targets: where a package was found), and every
``software_Package`` that contains no file, except images and sources.
"""
from claw_ta.sbom.model import Entry, SbomDocument, SbomError, check_entries
from claw_ta.sbom.paths import normalize_digest
from claw_ta.sbom.subjects import bare_warning, file_digest, file_entry, image_of, only_kind_warnings

_DOCUMENTS = ("SpdxDocument", "software_Sbom", "Bom")
_RELATIONSHIPS = ("Relationship", "LifecycleScopedRelationship")


def is_spdx3(doc):
    return "spdx.org/rdf/3." in str(doc.get("@context") or "")


def _type(element):
    return str(element.get("type") or element.get("@type") or "").replace("software:", "software_")


def _id(element):
    if isinstance(element, dict):
        return element.get("spdxId") or element.get("@id") or element.get("spdxid")
    return element


def _ids(value):
    return [_id(v) for v in (value if isinstance(value, list) else [value]) if _id(v)]


def _hashes(element):
    return [(h.get("algorithm"), h.get("hashValue")) for h in element.get("verifiedUsing") or ()
            if isinstance(h, dict)]


def _purl(element):
    if element.get("software_packageUrl"):
        return str(element["software_packageUrl"])
    for ident in element.get("externalIdentifier") or ():
        if isinstance(ident, dict) and ident.get("externalIdentifierType") == "packageUrl":
            return str(ident.get("identifier") or "")
    return ""


def _image(element):
    return image_of(_purl(element), element.get("software_primaryPurpose"), _hashes(element))


def _graph(doc):
    graph = doc.get("@graph")
    if graph is None:
        graph = [doc]
    if not isinstance(graph, list) or not all(isinstance(e, dict) for e in graph):
        raise SbomError("SPDX 3 @graph is not a list of objects")
    check_entries(len(graph))
    return graph


def _expand(roots, elements):
    """The root elements, an Sbom listed as a root standing for its own roots (each visited once)."""
    found, seen, todo = [], set(), list(roots)
    while todo:
        root = todo.pop(0)
        if root in seen or root not in elements:
            continue
        seen.add(root)
        if _type(elements[root]) in _DOCUMENTS:
            todo.extend(_ids(elements[root].get("rootElement")))
        else:
            found.append(root)
    return found


def parse(doc, name):
    graph = _graph(doc)
    elements = dict((_id(e), e) for e in graph if _id(e))
    documents = [e for e in graph if _type(e) in _DOCUMENTS]
    roots = [r for d in documents for r in _ids(d.get("rootElement"))]
    contains, evidence, variants = {}, set(), []
    for rel in (e for e in graph if _type(e) in _RELATIONSHIPS):
        kind, source, targets = rel.get("relationshipType"), _id(rel.get("from")), _ids(rel.get("to"))
        if kind == "describes" and (source in elements and _type(elements[source]) in _DOCUMENTS):
            roots.extend(targets)
        elif kind == "contains":
            for target in targets:
                contains.setdefault(target, source)
        elif kind == "hasEvidence":
            evidence.update(targets)
        elif kind == "hasVariant":
            variants.extend((source, t) for t in targets)
    roots = _expand(roots, elements)
    files = [e for e in graph if _type(e) == "software_File"
             and str(e.get("software_fileKind") or "file").lower() == "file"]  # a directory is no file
    packages = [e for e in graph if _type(e) == "software_Package"]
    out = SbomDocument("spdx3", str(_id(documents[0]) if documents else name) or name, (), (),
                       len(files) + len(packages))
    for root in roots:
        element = elements[root]
        digest, kind = _image(element)
        if kind in ("index", "manifest"):
            out.add_subject(digest, kind)
        out.add_subject(file_digest(_hashes(element))[0],
                        "file" if _type(element) == "software_File" else "unknown")
        out.add_subject(normalize_digest(str(element.get("software_packageVersion") or "")), "producer")
    children = set(t for s, t in variants if s in roots and t in elements)
    for child in sorted(children):
        digest = _image(elements[child])[0] or file_digest(_hashes(elements[child]))[0]
        if digest:
            out.children.append(digest)
    skip = set(roots) | evidence | children
    owners = set(contains[_id(f)] for f in files if _id(f) in contains)
    bare = 0
    for element in files:
        if _id(element) not in skip:
            pkg = elements.get(contains.get(_id(element))) or {}
            entry, skipped = file_entry(str(element.get("name") or ""), _hashes(element), (
                str(pkg.get("name") or ""), str(pkg.get("software_packageVersion") or ""), _purl(pkg)))
            out.entries.extend([entry] if entry else [])
            bare += skipped
    for element in packages:
        if _id(element) in skip or _id(element) in owners or _image(element)[0] \
                or str(element.get("software_primaryPurpose") or "").lower() == "source" \
                or not (element.get("name") or file_digest(_hashes(element))[0]):
            continue  # the subject, a platform, an image, a source, or nothing to match on
        out.entries.append(Entry("", file_digest(_hashes(element))[0], str(element.get("name") or ""),
                                 str(element.get("software_packageVersion") or ""), _purl(element),
                                 kind="package"))
    if bare:
        out.warnings.append(bare_warning(bare))
    return only_kind_warnings(out)
