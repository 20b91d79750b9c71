"""What the parsers share: subject digests and their kinds, file digests, bare file names.

Every format names its subject differently (an ``pkg:oci`` purl, a Trivy
``RepoDigest``/``ImageID``, an in-toto subject name); these helpers turn each
into (sha256 hex, kind) with a kind from ``model.SUBJECT_KINDS``.
"""
import re

from claw_ta.sbom.model import Entry
from claw_ta.sbom.paths import normalize_digest

# pkg:oci/name@sha256:<hex> (the colon may be percent-encoded, as apko and Trivy write it)
_PURL_DIGEST = re.compile(r"@sha256(?::|%3[Aa])([0-9a-fA-F]{64})(?![0-9a-fA-F])")
_REF_DIGEST = re.compile(r"@sha256:([0-9a-fA-F]{64})$")
INDEX_MEDIA_TYPES = ("application/vnd.oci.image.index.v1+json",
                     "application/vnd.docker.distribution.manifest.list.v2+json")
MANIFEST_MEDIA_TYPES = ("application/vnd.oci.image.manifest.v1+json",
                        "application/vnd.docker.distribution.manifest.v2+json")

CONFIG_ONLY = ("only the image config digest (Trivy ImageID) names the image, and the kubelet "
               "reports registry digests: generate the SBOM from the pushed image "
               "(e.g. trivy image <registry>/<repo>@sha256:<digest>) so it carries RepoDigest, "
               "or attest it to the pushed image (cosign attest)")
PRODUCER_ONLY = ("the only digest is one the producer computed (syft's metadata.component.version), "
                 "which equals the registry digest only when syft read the image from the registry: "
                 "attest the SBOM to the pushed image (cosign attest) to bind it to the registry digest")


def _media_type(purl):
    query = purl.partition("?")[2]
    for pair in query.split("&"):
        key, _, value = pair.partition("=")
        if key == "mediaType":
            return value.replace("%2F", "/").replace("%2f", "/").replace("%2B", "+").replace("%2b", "+")
    return ""


def oci_purl(purl):
    """(hex, kind) of a ``pkg:oci``/``pkg:docker`` purl with a sha256 digest, else ("", "").

    kind: "index" or "manifest" from its ``mediaType`` qualifier, "layer" for a
    layer (not a subject), "manifest" without one.
    """
    purl = (purl or "").strip()
    if not purl.lower().startswith(("pkg:oci/", "pkg:docker/")):
        return "", ""
    match = _PURL_DIGEST.search(purl)
    if not match:
        return "", ""
    media = _media_type(purl)
    if media in INDEX_MEDIA_TYPES:
        kind = "index"
    elif ".layer." in media or media.endswith(".layer"):
        kind = "layer"
    else:
        kind = "manifest"
    return match.group(1).lower(), kind


def purl_platform(purl):
    """``os/arch[/variant]`` from a ``pkg:oci`` purl's ``os``/``arch``/``variant`` qualifiers (apko and
    ko name each platform manifest so), lowercase; "" when it gives none."""
    query = {}
    for pair in (purl or "").partition("?")[2].partition("#")[0].split("&"):
        key, _, value = pair.partition("=")
        query.setdefault(key, value.replace("%2F", "/").replace("%2f", "/").strip().lower())
    parts = [query.get("os", "") or "linux", query.get("arch", ""), query.get("variant", "")]
    if not parts[1] or any(p and not p.replace("_", "").replace("-", "").replace(".", "").isalnum() for p in parts):
        return ""
    return "/".join(p for p in parts if p)


def image_of(purl, purpose, hashes):
    """(hex, kind) of an image element: its ``pkg:oci`` purl, else a container's SHA-256; ("", "")."""
    digest, kind = oci_purl(purl)
    if digest:
        return digest, kind
    if str(purpose or "").lower() == "container":
        return file_digest(hashes)[0], "manifest"
    return "", ""


def repo_digest(value):
    """Hex digest of ``repo@sha256:<hex>`` (Trivy's RepoDigest), else ""."""
    match = _REF_DIGEST.search((value or "").strip())
    return match.group(1).lower() if match else ""


def statement_subject_kind(name):
    """Kind of an in-toto statement subject from its ``name``.

    ``pkg:docker``/``pkg:oci`` purls and image references (``registry.example/repo``,
    ``127.0.0.1:5000/repo``) are images: "manifest" (cosign, BuildKit, Tekton
    Chains attest the digest they pushed or resolved; see docs/sbom.md for a tag
    resolved to a multi-arch index). Absolute paths and single names
    (``/out/kubectl``, ``curl``, ``foo.tar.gz``) are files. Anything else: "unknown".
    """
    name = (name or "").strip()
    if not name:
        return "unknown"
    if name.lower().startswith(("pkg:docker/", "pkg:oci/")):
        _, kind = oci_purl(name)
        return "index" if kind == "index" else "manifest"
    if name.startswith(("/", "./", "file:")) or "/" not in name:
        return "file"
    first = name.split("/", 1)[0]
    if "." in first or ":" in first or first == "localhost":
        return "manifest"
    return "unknown"


def only_kind_warnings(doc):
    """Warnings for a document whose subjects are all config or all producer digests."""
    kinds = set(doc.subject_kinds.values())
    if kinds == set(["config"]):
        doc.warnings.append(CONFIG_ONLY)
    elif kinds == set(["producer"]):
        doc.warnings.append(PRODUCER_ONLY)
    return doc


# --- file digests and names ---------------------------------------------------

def _alg(name):
    return str(name or "").replace("-", "").replace("_", "").lower()


def file_digest(pairs):
    """(sha256 hex, other algorithm) from (algorithm, value) pairs.

    A usable SHA-256 wins; otherwise the name of the first other algorithm
    given ("sha1", "md5", "sha512", ...), so the index can say the file has a
    digest it cannot compare.
    """
    other = ""
    for alg, value in pairs:
        key = _alg(alg)
        if key == "sha256":
            digest = normalize_digest(str(value or ""))
            if digest.strip("0"):  # all zeros: what syft writes for a directory, symlink or device
                return digest, ""
        elif key and value and not other and str(value).strip().strip("0"):  # all zeros: no digest
            other = key
    return "", other


def is_bare_name(path):
    """True for a file name without a directory (``libz.so.1``): not a path a load can be matched on."""
    return "/" not in path.replace("\\", "/")


def file_entry(path, hashes, package=("", "", "")):
    """(Entry or None, skipped) for a file a document lists, ``package`` = (name, version, purl).

    A bare file name is no usable path: with a SHA-256 the file is matched by
    digest only, without one it is skipped (``skipped`` True, for the warning).
    """
    sha, other = file_digest(hashes)
    if path and not is_bare_name(path):
        return Entry(path, sha, package[0], package[1], package[2], kind="file", other_digest=other), False
    if sha:
        return Entry("", sha, package[0], package[1], package[2], kind="file"), False
    return None, bool(path)


def bare_warning(count):
    return ("%d file(s) give a bare file name without a directory and no SHA-256: they cannot be "
            "matched to a loaded library and were not indexed" % count)
