"""Which documents may decide a verdict (docs/sbom.md, "Trust and precedence").

The matcher (claw_ta.sbom.matcher) asks these for every set of documents
that name an event's binary or image: ``untrusted`` documents never decide,
a ``verified`` file list is never widened by a ``channel`` document, and an
image index's platform manifests are narrowed to the node's platform.
"""

EVIDENCE = ("files_sha256", "files_path", "packages", "none")
FILES = EVIDENCE[:2]


class Doc(object):
    """One subjects-table row: a document that names a digest."""
    __slots__ = ("evidence", "sbom_id", "ref", "children", "trust", "signer", "name", "reason")

    def __init__(self, evidence, sbom_id, ref, children, trust, signer, name, reason):
        self.evidence, self.sbom_id, self.ref, self.children = evidence, sbom_id, ref, children
        self.trust, self.signer, self.name, self.reason = trust, signer, name, reason


def make_pools(docs_of, library_list, subject_hex, image_hex, platform):
    """The sets of documents that decide for a load of the binary ``subject_hex`` in the image
    ``image_hex``: one per platform manifest the image stands for (one without an index), each
    ``(best evidence, first ref, sources, note)`` with ``sources`` the deciding documents
    ``(evidence, library list, ref, (trust, signer, name))`` and ``note`` the untrusted ones ignored.
    ``docs_of(hex)`` gives a digest's documents (:class:`Doc`), ``library_list(sbom_id)`` a list;
    ``platform`` is the node's (os, arch, variant) or None."""
    ignored = {}
    if not image_hex or image_hex == subject_hex:
        image_docs, binary_docs = trusted(docs_of(subject_hex or image_hex), ignored), []
    else:
        image_docs = trusted(docs_of(image_hex), ignored)
        binary_docs = trusted(docs_of(subject_hex), ignored, image_docs) if subject_hex else []
    parents = [d for d in image_docs if d.children]
    if any(d.trust == "verified" for d in parents):  # a channel index never adds a platform
        parents = [d for d in parents if d.trust == "verified"]
    children = []
    for doc in parents:
        children.extend(c for c in doc.children if c not in children)
    if platform and children:
        children = for_platform(children, platform)
    if not children:
        return [pool(image_docs, binary_docs, ignored, library_list)]
    pools = []
    for child, _ in children:
        own = {}
        docs = image_docs + trusted(docs_of(child), own, image_docs)
        own.update(ignored)
        pools.append(pool(docs, binary_docs, own, library_list))
    return pools


def trusted(docs, ignored, besides=()):
    """The documents of a digest that may decide (once each, none of ``besides``); the untrusted
    ones go to ``ignored`` (ref -> document)."""
    out = []
    refs = set(d.ref for d in besides)
    for doc in docs:
        if doc.trust != "untrusted" and doc.ref not in refs:
            refs.add(doc.ref)
            out.append(doc)
    for doc in docs:  # the same document (content digest) trusted through another source is not ignored
        if doc.trust == "untrusted" and doc.ref not in refs:
            ignored.setdefault(doc.ref, doc)
    return out


def pool(image_docs, binary_docs, ignored, library_list):
    """(best evidence, first ref, sources, note) of the documents that decide for one platform."""
    deciding = outrank(image_docs)
    if not any(d.evidence in FILES for d in deciding):  # the image's documents list no files
        deciding = deciding + [d for d in outrank(binary_docs) if d not in deciding]
    sources = tuple((d.evidence, library_list(d.sbom_id), d.ref, (d.trust, d.signer, d.name))
                    for d in deciding if d.sbom_id)
    note = ignored_note(ignored)
    if not sources:
        return ("", "", (), note)
    # best evidence first (stable: the image's documents before the binary's): the first source is
    # the one an absence verdict (unlisted because nothing lists the file) is reported under
    sources = tuple(sorted(sources, key=lambda source: EVIDENCE.index(source[0])))
    return (sources[0][0], sources[0][2], sources, note)


def outrank(docs):
    """The documents of one scope that decide: its verified ones where they list files (a channel
    document never widens a verified list), else all of them."""
    verified = [d for d in docs if d.trust == "verified"]
    if any(d.evidence in FILES for d in verified):
        return verified
    return list(docs)


def platform_parts(value):
    """(os, arch, variant) of ``linux/arm64[/v8]`` (a bare ``arm64`` is linux's), lowercase; None."""
    value = (value or "").strip().lower()
    if not value or value == "-":
        return None
    parts = value.split("/")
    if len(parts) == 1:
        parts = ["linux"] + parts
    if len(parts) > 3 or not all(p and p.replace("_", "").replace("-", "").replace(".", "").isalnum()
                                 for p in parts):
        return None
    return (parts[0], parts[1], parts[2] if len(parts) > 2 else "")


def for_platform(children, platform):
    """The platform manifests to check on a node of ``platform``: those of that platform, else those
    whose platform is not known, else all (the index says nothing about the node's platform)."""
    same = [c for c in children if c[1] and c[1][:2] == platform[:2]
            and (not c[1][2] or not platform[2] or c[1][2] == platform[2])]
    if same:
        return same
    unknown = [c for c in children if not c[1]]
    return unknown or children


def ignored_note(ignored):
    if not ignored:
        return ""
    docs = list(ignored.values())
    first = docs[0]
    return "; %d untrusted document(s) ignored (%s: %s%s)" % (
        len(docs), first.name, first.reason or "untrusted", ", ..." if len(docs) > 1 else "")
