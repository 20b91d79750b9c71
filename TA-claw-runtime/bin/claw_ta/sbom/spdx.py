"""SPDX 2.2/2.3 JSON.

Subject: each element the document describes (``documentDescribes``, a
``SPDXRef-DOCUMENT DESCRIBES x`` relationship, Trivy 2022's ``DESCRIBE``
spelling, or ``x DESCRIBED_BY`` the document), by its SHA256 checksum, its
``pkg:oci`` purl digest (kind from the purl's mediaType; "producer" when syft
wrote it: syft computes the image digest itself), a ``sha256:`` version
(producer) and Trivy's ``RepoDigest:``/``ImageID:`` attribution texts. A document that describes nothing (syft 0.57-0.64, BuildKit's SBOM
attestation) gets its subjects from the in-toto statement around it.

Multi-arch: the platform manifests an index document lists (apko, ko:
``VARIANT_OF`` the index, ``pkg:oci`` purls with a manifest mediaType) are
its ``children``, not libraries; other image packages (base images, layers)
are neither.

Libraries: every file (``fileName``; SHA256 checksum, else ``other_digest``
for SHA1/MD5) except entries with no checksum or only all-zero ones (syft's
directories, symlinks and devices: not files) and package *locations* (syft's ``OTHER`` relationships
commented ``evident-by:``: ``/lib/apk/db/installed`` and the like), and every
package without files except source packages. A file's package is the
package that CONTAINS it (or lists it in ``hasFiles``).
"""
from claw_ta.sbom.model import Entry, SbomDocument, SbomError, check_entries
from claw_ta.sbom.paths import normalize_digest
from claw_ta.sbom.subjects import (bare_warning, file_digest, file_entry, image_of, only_kind_warnings,
                                   purl_platform, repo_digest)

NO_SUBJECT = ("the SPDX document describes nothing (no documentDescribes or DESCRIBES "
              "relationship, as syft 0.57-0.64 writes) and names no image digest: attest it to "
              "the image (cosign attest --type spdxjson) so the statement's subject names the digest")


def _checksums(element):
    """(algorithm, value) pairs; claw_ta.sbom.jsonstream gives them as such already (memory)."""
    return [(c.get("algorithm"), c.get("checksumValue")) if isinstance(c, dict) else c
            for c in element.get("checksums") or () if isinstance(c, (dict, ChecksumPair))]


class ChecksumPair(tuple):
    """A checksum reduced to (algorithm, value) by claw_ta.sbom.jsonstream."""
    __slots__ = ()


def is_file(element):
    """False for a file entry that is no regular file: no checksum, or only all-zero ones (syft lists
    directories, symlinks and devices so with SYFT_FILE_METADATA_SELECTION=all: a repointed symlink
    must not be listed by its path)."""
    return any(str(value or "").strip().strip("0") for _, value in _checksums(element))


NOT_FILES = ("%d file entries have no checksum or only all-zero ones (directories, symlinks or devices, as "
             "syft lists them): not files, not indexed")


def _purl(element):
    for ref in element.get("externalRefs") or ():
        if isinstance(ref, dict) and ref.get("referenceType") == "purl":
            return str(ref.get("referenceLocator") or "")
    return ""


def _image(element):
    """(hex, kind) of an image package (pkg:oci purl or CONTAINER purpose), else ("", "")."""
    return image_of(_purl(element), element.get("primaryPackagePurpose"), _checksums(element))


def _add_subjects(doc, element, producer):
    digest, kind = _image(element)
    if kind in ("index", "manifest"):
        doc.add_subject(digest, "producer" if producer else kind)
    for text in element.get("attributionTexts") or ():  # Trivy
        key, _, value = str(text).partition(": ")
        if key == "RepoDigest":
            doc.add_subject(repo_digest(value), "manifest")
        elif key == "ImageID":
            doc.add_subject(normalize_digest(value), "config")
    sha = file_digest(_checksums(element))[0]
    doc.add_subject(sha, "file" if "fileName" in element else "unknown")
    doc.add_subject(normalize_digest(str(element.get("versionInfo") or "")), "producer")


def _relations(relationships, doc_id, elements):
    """(described ids, owner of each file id, ids of packages with files, location file ids,
    VARIANT_OF pairs)."""
    described, owner, owners, locations, variants = [], {}, set(), set(), []
    for rel in relationships:
        if not isinstance(rel, dict):
            continue
        kind = str(rel.get("relationshipType") or "").upper()
        left, right = rel.get("spdxElementId"), rel.get("relatedSpdxElement")
        if kind in ("DESCRIBES", "DESCRIBE") and left == doc_id:
            described.append(right)
        elif kind == "DESCRIBED_BY" and right == doc_id:
            described.append(left)
        elif kind in ("CONTAINS", "CONTAIN", "CONTAINED_BY"):
            package, member = (left, right) if kind != "CONTAINED_BY" else (right, left)
            if package in elements and "fileName" not in elements[package] \
                    and "fileName" in elements.get(member, ()):
                owner.setdefault(member, elements[package])
                owners.add(package)
        elif kind == "OTHER" and str(rel.get("comment") or "").startswith("evident-by"):
            locations.add(right)
        elif kind == "VARIANT_OF":
            variants.append((left, right))
    return described, owner, owners, locations, variants


def _children(doc, described, variants, packages, elements):
    """Platform manifests of an index document (ids of the packages that carry them)."""
    ids = set()
    for left, right in variants:
        for mine, other in ((left, right), (right, left)):
            if mine in described and other in elements and other not in described:
                ids.add(other)
    if "index" in doc.subject_kinds.values():
        ids.update(p.get("SPDXID") for p in packages if _image(p)[1] == "manifest"
                   and p.get("SPDXID") not in described and "arch=" in _purl(p))
    for element_id in sorted(ids):
        digest = _image(elements[element_id])[0] or file_digest(_checksums(elements[element_id]))[0]
        if digest:
            doc.children.append(digest)
            platform = purl_platform(_purl(elements[element_id]))
            if platform:
                doc.child_platforms.setdefault(digest, platform)
    return ids


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
    described, owner, owners, locations, variants = _relations(relationships, doc_id, elements)
    described = list(dict.fromkeys(d for d in list(doc.get("documentDescribes") or []) + described
                                   if d in elements))
    for package in packages:
        for file_id in package.get("hasFiles") or ():
            owner.setdefault(file_id, package)
            owners.add(package.get("SPDXID"))
    out = SbomDocument("spdx", str(doc.get("documentNamespace") or name), (), (),
                       len(files) + len(packages))
    info = doc.get("creationInfo") if isinstance(doc.get("creationInfo"), dict) else {}
    syft = any(str(c).startswith("Tool: syft") for c in info.get("creators") or ())
    for element_id in described:
        _add_subjects(out, elements[element_id], syft)
    skip = set(described) | locations | _children(out, described, variants, packages, elements)
    bare = not_files = 0
    for element in files:
        if element.get("SPDXID") not in skip and not is_file(element):
            not_files += 1
        elif element.get("SPDXID") not in skip:
            pkg = owner.get(element.get("SPDXID")) or {}
            entry, skipped = file_entry(str(element.get("fileName") or ""), _checksums(element), (
                str(pkg.get("name") or ""), str(pkg.get("versionInfo") or ""), _purl(pkg)))
            out.entries.extend([entry] if entry else [])
            bare += skipped
    for package in packages:
        if package.get("SPDXID") in skip or package.get("SPDXID") in owners or _image(package)[0] \
                or str(package.get("primaryPackagePurpose") or "").upper() == "SOURCE" \
                or not (package.get("name") or file_digest(_checksums(package))[0]):
            continue  # the subject, a platform, an image, a source, or nothing to match on
        out.entries.append(Entry("", file_digest(_checksums(package))[0], str(package.get("name") or ""),
                                 str(package.get("versionInfo") or ""), _purl(package), kind="package"))
    if bare:
        out.warnings.append(bare_warning(bare))
    if not_files:
        out.warnings.append(NOT_FILES % not_files)
    if not described:
        out.warnings.append(NO_SUBJECT)
    return only_kind_warnings(out)
