"""What every parser returns: an SBOM document reduced to subjects and allowed libraries."""

# Limits a document must respect; beyond them it is reported by name and skipped.
MAX_BYTES = 100 * 1024 * 1024      # a document larger than this is refused before reading
MAX_DEPTH = 64                      # nesting of CycloneDX components / XML elements
MAX_XML_ELEMENTS = 5000000          # elements in one XML document
MAX_ENTRIES = 1000000               # components / files / materials in one document


class SbomError(ValueError):
    """A document that cannot be indexed; the message is the reason users see."""


# What a subject digest is (recorded per subject in the index; the README's table):
#   manifest  a registry image manifest digest (a single-platform image, or one
#             platform manifest of a multi-arch index)
#   index     an OCI image index / Docker manifest list digest (multi-arch)
#   config    an image config digest (Trivy's ImageID): only matches events if
#             something reports it; the SBOM should be generated from the pushed image
#   producer  a digest the producer computed itself (syft's metadata.component.version)
#   file      a binary's file digest (in-toto link/statement for an executable)
#   unknown   a SHA-256 the document gives without saying what it is
SUBJECT_KINDS = ("manifest", "index", "config", "producer", "file", "unknown")

# What a document can speak to, best first (per document; a subject's evidence
# is the best of its documents').
#   files_sha256  it lists files with SHA-256 digests
#   files_path    it lists files, by path only (or with digests in other algorithms)
#   packages      it lists packages only
#   none          it lists nothing a library can be matched on
EVIDENCE_LEVELS = ("files_sha256", "files_path", "packages", "none")

# Who vouches for a document (docs/sbom.md "Trust and precedence"; docs/sbom-trust.md):
#   verified   its signature is good and the signer is allowed for its subject's image
#   channel    unsigned (or not checked), from a source the site declared trusted: a folder
#              given to `claw-ta sbom-index`, a scenario's sboms/, the declared SBOM index
#   untrusted  anything else: never decides a verdict, only reported
TRUST_LEVELS = ("verified", "channel", "untrusted")
CHANNEL_REASON = "unsigned, from a declared SBOM source"


class Entry(object):
    """One library a subject may load: a file (``kind`` "file", ``path`` set) or a package.

    ``sha256`` is 64 lowercase hex or ""; ``other_digest`` names the algorithm of
    a digest in another algorithm when no SHA-256 is given ("sha1", "md5", ...).
    Package *locations* (where a producer found the package) are not files.
    """

    __slots__ = ("path", "sha256", "name", "version", "purl", "kind", "other_digest")

    def __init__(self, path="", sha256="", name="", version="", purl="", kind=None, other_digest=""):
        self.path = path or ""
        self.sha256 = sha256 or ""
        self.name = name or ""
        self.version = version or ""
        self.purl = purl or ""
        self.kind = kind or ("file" if self.path else "package")
        self.other_digest = other_digest or ""

    def __repr__(self):
        return "Entry(path=%r, sha256=%r, name=%r, version=%r)" % (
            self.path, self.sha256[:12], self.name, self.version)


class SbomDocument(object):
    """``subjects``: sha256 hex digests it applies to; ``entries``: the libraries it lists.

    ``subject_kinds`` maps each subject to one of SUBJECT_KINDS ("unknown" unless
    a parser says). ``children``: platform manifest digests (hex) of an image
    index this document describes (a load under the index digest is checked
    against the children's SBOMs). ``warnings``: what the user should know
    though the document indexed (e.g. only a config digest). ``components``
    counts what the document held (packages, files, materials), including
    entries that carry nothing to match on.

    ``ref`` is the document's name for humans (CycloneDX ``serialNumber``, SPDX
    ``documentNamespace``, else the file name): anyone can copy it. ``digest``
    is its identity (``sha256:<hex>`` of its text, set by the index builder;
    see :func:`claw_ta.sbom.index.document_digest`). ``trust`` is one of
    TRUST_LEVELS, ``signer`` who signed it (a key fingerprint, a Sigstore
    identity) and ``trust_reason`` why it has that level. ``child_platforms``
    maps a child (hex) to its platform (``linux/arm64``) where the document
    says.
    """

    def __init__(self, fmt, ref, subjects=(), entries=(), components=0, subject_kinds=None,
                 children=(), warnings=()):
        self.format = fmt
        self.ref = ref
        self.digest = ""
        self.trust = "channel"
        self.signer = ""
        self.trust_reason = ""
        self.child_platforms = {}
        self.name_subject = ""  # a subject read from the file name, not the text (OCI image index)
        self.subjects = list(dict.fromkeys(s for s in subjects if s))
        self.subject_kinds = dict((s, (subject_kinds or {}).get(s, "unknown")) for s in self.subjects)
        self.entries = list(entries)
        self.components = components
        self.children = list(dict.fromkeys(c for c in children if c))
        self.warnings = list(warnings)

    def add_subject(self, digest, kind="unknown"):
        """Add a subject (hex); a known kind replaces "unknown"."""
        if not digest:
            return
        if digest not in self.subject_kinds:
            self.subjects.append(digest)
            self.subject_kinds[digest] = kind
        elif self.subject_kinds[digest] == "unknown":
            self.subject_kinds[digest] = kind

    @property
    def evidence(self):
        """The best of EVIDENCE_LEVELS this document's entries give."""
        files = [e for e in self.entries if e.kind == "file"]
        if any(e.sha256 for e in files):
            return "files_sha256"
        if files:
            return "files_path"
        if self.entries:
            return "packages"
        return "none"

    def __repr__(self):
        return "SbomDocument(%s %s: %d subjects, %d entries of %d components)" % (
            self.format, self.ref, len(self.subjects), len(self.entries), self.components)


def check_entries(count):
    if count > MAX_ENTRIES:
        raise SbomError("more than %d components/files (limit MAX_ENTRIES)" % MAX_ENTRIES)
