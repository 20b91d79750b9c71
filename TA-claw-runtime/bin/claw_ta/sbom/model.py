"""What every parser returns: an SBOM document reduced to subjects and allowed libraries."""

# Limits a document must respect; beyond them it is reported by name and skipped.
MAX_BYTES = 100 * 1024 * 1024      # a document larger than this is refused before reading
MAX_DEPTH = 64                      # nesting of CycloneDX components / XML elements
MAX_XML_ELEMENTS = 5000000          # elements in one XML document
MAX_ENTRIES = 1000000               # components / files / materials in one document


class SbomError(ValueError):
    """A document that cannot be indexed; the message is the reason users see."""


class Entry(object):
    """One library a subject may load: a file (``path`` set) or a package without files."""

    __slots__ = ("path", "sha256", "name", "version", "purl")

    def __init__(self, path="", sha256="", name="", version="", purl=""):
        self.path = path or ""
        self.sha256 = sha256 or ""
        self.name = name or ""
        self.version = version or ""
        self.purl = purl or ""

    def __repr__(self):
        return "Entry(path=%r, sha256=%r, name=%r, version=%r)" % (
            self.path, self.sha256[:12], self.name, self.version)


class SbomDocument(object):
    """``subjects``: sha256 hex digests it applies to; ``entries``: the libraries it lists.

    ``components`` counts what the document held (packages, files, materials),
    including entries that carry nothing to match on.
    """

    def __init__(self, fmt, ref, subjects=(), entries=(), components=0):
        self.format = fmt
        self.ref = ref
        self.subjects = list(dict.fromkeys(s for s in subjects if s))
        self.entries = list(entries)
        self.components = components

    def __repr__(self):
        return "SbomDocument(%s %s: %d subjects, %d entries of %d components)" % (
            self.format, self.ref, len(self.subjects), len(self.entries), self.components)


def check_entries(count):
    if count > MAX_ENTRIES:
        raise SbomError("more than %d components/files (limit MAX_ENTRIES)" % MAX_ENTRIES)
