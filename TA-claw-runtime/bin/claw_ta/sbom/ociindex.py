"""An OCI image index / Docker manifest list read like an SBOM: links an index digest to its platforms.

The document does not contain its own digest. Its subject (kind "index") is
the digest the file name gives (``sha256-<hex>...`` as cosign and ``oras``
name blobs, ``sha256:<hex>``, or the bare ``<hex>`` of an OCI layout's
``blobs/sha256/``); without one, the SHA-256 of the document's
bytes, which *is* its digest when the file holds the index exactly as the
registry served it (``skopeo inspect --raw``, ``crane manifest``,
``oras manifest fetch``). When both exist and differ, the file name wins and
a warning says the bytes were re-serialized. Its ``children`` are the
platform manifests in ``manifests[]`` (BuildKit's attestation manifests,
``vnd.docker.reference.type: attestation-manifest``, are not platforms).
It lists no library: a load under the index digest is checked against the
children's SBOMs. Each child's ``platform`` (``os``/``architecture``/``variant``)
is kept (``child_platforms``), so a load on a node whose platform is known is
checked against that platform's SBOM.
"""
import hashlib
import re

from claw_ta.sbom.model import SbomDocument, SbomError, check_entries
from claw_ta.sbom.paths import normalize_digest
from claw_ta.sbom.subjects import INDEX_MEDIA_TYPES, MANIFEST_MEDIA_TYPES

# sha256-<hex>.json (cosign, oras), sha256:<hex>, or an OCI layout blob: blobs/sha256/<hex>
_NAME_DIGEST = re.compile(r"(?:^|[^0-9A-Za-z])sha256[-:_]([0-9a-fA-F]{64})(?![0-9a-fA-F])|^([0-9a-fA-F]{64})$")


def is_index(doc):
    media = doc.get("mediaType")
    if media in INDEX_MEDIA_TYPES:
        return True
    return media is None and doc.get("schemaVersion") == 2 and isinstance(doc.get("manifests"), list) \
        and "layers" not in doc


def is_manifest(doc):
    return doc.get("mediaType") in MANIFEST_MEDIA_TYPES or (
        doc.get("schemaVersion") == 2 and isinstance(doc.get("layers"), list))


def parse(doc, name, raw):
    manifests = doc.get("manifests")
    if not isinstance(manifests, list):
        raise SbomError("OCI image index manifests is not a list")
    check_entries(len(manifests))
    out = SbomDocument("oci-index", name, (), (), len(manifests))
    match = _NAME_DIGEST.search(name.rsplit("/", 1)[-1])
    content = hashlib.sha256(raw).hexdigest() if raw is not None else ""
    if match:
        named = (match.group(1) or match.group(2)).lower()
        out.add_subject(named, "index")
        if content != named:
            out.name_subject = named  # the document's identity must include it (claw_ta.sbom.index)
        if content and content != named:
            out.warnings.append("the file name says sha256:%s but the bytes hash to sha256:%s: the index "
                                "was re-serialized; indexed under the file name's digest" % (named, content))
    elif content:
        out.add_subject(content, "index")
        out.warnings.append("no digest in the file name: indexed under the SHA-256 of the file's bytes, "
                            "which is the index digest only if the file holds the index exactly as the "
                            "registry served it (name it sha256-<hex>.json otherwise)")
    for item in manifests:
        if not isinstance(item, dict):
            continue
        annotations = item.get("annotations") if isinstance(item.get("annotations"), dict) else {}
        if annotations.get("vnd.docker.reference.type") == "attestation-manifest":
            continue
        if item.get("mediaType") not in MANIFEST_MEDIA_TYPES + (None,):
            continue
        child = normalize_digest(str(item.get("digest") or ""))
        out.children.append(child)
        platform = platform_name(item.get("platform"))
        if child and platform:
            out.child_platforms.setdefault(child, platform)
    out.children = [c for c in dict.fromkeys(out.children) if c]
    if not out.children:
        out.warnings.append("the index lists no platform manifest with a sha256 digest")
    return out


def platform_name(platform):
    """``os/architecture[/variant]`` of an index entry's ``platform`` object, lowercase; "" if none."""
    if not isinstance(platform, dict):
        return ""
    parts = [str(platform.get(k) or "").strip().lower() for k in ("os", "architecture", "variant")]
    if not parts[0] or not parts[1] or any(not p.replace("_", "").replace("-", "").replace(".", "").isalnum()
                                           for p in parts if p):
        return ""
    return "/".join(p for p in parts if p)
