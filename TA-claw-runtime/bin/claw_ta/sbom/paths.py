"""Path, digest and soname normalization shared by the SBOM index and the matcher.

Both sides of a comparison go through the same functions: the paths an SBOM
lists (often relative, ``./usr/lib/...``) and the paths the loader reported
(often inside a container overlay, ``.../rootfs/usr/lib/...``).
"""
import re

_SLASHES = re.compile(r"/{2,}")
# The prefixes container runtimes really put in front of the path the container
# sees (and nothing else: a look-alike folder elsewhere is an ordinary path).
_CONTAINERD_ROOTS = r"(?:/var/lib/containerd|/var/lib/rancher/k3s/agent/containerd" \
    r"|/var/snap/microk8s/common/var/lib/containerd)"
_CONTAINERD_STATE = r"(?:/run/containerd|/run/k3s/containerd|/var/snap/microk8s/common/run/containerd)"
_RUNTIME_PREFIX = re.compile(
    r"^(?:"
    + _CONTAINERD_ROOTS + r"/io\.containerd\.snapshotter\.v1\.[a-z0-9_-]+/snapshots/\d+/fs"  # snapshot
    r"|" + _CONTAINERD_STATE + r"/io\.containerd\.runtime\.v2\.task/[^/]+/[^/]+/rootfs"  # task bundle
    r"|/var/lib/docker/overlay2/[^/]+/merged"        # Docker overlay2
    r"|/var/lib/containers/storage/overlay/[^/]+/merged"  # CRI-O / Podman
    r"|/proc/\d+/root"                                # /proc/<pid>/root/ view of a container
    r")(?=/)")
# Paths that name no file the SBOM could list: match by digest only.
_UNMATCHABLE = re.compile(r"^/?memfd:|\(deleted\)$|^/proc/(?:\d+|self|thread-self)/fd/|^/dev/shm/|^\[anon")
# Fileless: a memfd (``/memfd:x (deleted)``), a file descriptor, an anonymous mapping.
_MEMFD = re.compile(r"^/?memfd:|^/proc/(?:\d+|self|thread-self)/fd/|^\[anon")
DELETED = " (deleted)"  # what the kernel appends to the name of a file deleted while mapped
# What makes a path unsafe to compare by path: control characters, backslashes,
# a scheme (``file:``, ``memfd:``), ``..`` components.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f\\]|^[A-Za-z][A-Za-z0-9+.-]*:|(?:^|/)\.\.(?:/|$)")
# Merged /usr: /lib -> /usr/lib and so on (Debian >= 12, Fedora, Arch, Ubuntu).
_MERGED_USR = ("lib", "lib32", "lib64", "libx32", "bin", "sbin")
# musl: /lib/libc.musl-<arch>.so.1 is a symlink to the loader /lib/ld-musl-<arch>.so.1,
# the loader resolves it, and SBOM generators list either name.
_MUSL_LIBC = re.compile(r"^libc\.musl-([A-Za-z0-9_]+)\.so\.1$")
# Kernel-provided images, reported by bare name only: not files, never in an SBOM.
VDSO_NAMES = frozenset(("[vdso]", "[vsyscall]", "[vvar]", "linux-vdso.so.1",
                        "linux-gate.so.1", "linux-vdso32.so.1", "linux-vdso64.so.1"))
_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
# The directories a distribution's package manager installs shared libraries into, by family
# (after normalization: /lib is /usr/lib): the only places the soname rule may vouch for a file.
# /usr/local/lib is never one (no distribution package installs there).
_TRIPLET = r"[a-z0-9_]+-linux-(?:gnu|musl)[a-z0-9_]*"
LIBRARY_DIRS = {
    "deb": re.compile(r"^/usr/(?:lib(?:/" + _TRIPLET + r")?|lib32|libx32|lib64)/[^/]+$"),  # Debian, Ubuntu
    "rpm": re.compile(r"^/usr/lib(?:64)?/[^/]+$"),       # Fedora, RHEL, SUSE, Amazon Linux
    "apk": re.compile(r"^/usr/lib/[^/]+$"),              # Alpine (/lib is /usr/lib here)
    "alpm": re.compile(r"^/usr/lib/[^/]+$"),             # Arch
}
# Packages without a distribution purl (pkg:deb/rpm/apk/alpm): any of the families' directories.
_ANY_FAMILY = re.compile(r"^/usr/(?:lib(?:/" + _TRIPLET + r")?|lib32|libx32|lib64)/[^/]+$")


def is_vdso(path):
    """True for the kernel's vDSO by its bare name (``[vdso]``, ``linux-vdso.so.1``) only."""
    return path in VDSO_NAMES


def is_unmatchable(path):
    """True for paths that cannot be compared by path (memfd, deleted, /proc/self/fd/N)."""
    return bool(_UNMATCHABLE.search(path))


def _normalize(path):
    """(normalize_path(path), the runtime prefix stripped from it or "")."""
    if not path or path != path.strip() or _UNSAFE.search(path) or is_unmatchable(path) \
            or path in VDSO_NAMES:
        return "", ""
    if path[0] != "/":
        path = "/" + path
    if "//" in path:
        path = _SLASHES.sub("/", path)
    if "/./" in path or path.endswith("/."):
        path = "/".join(part for part in path.split("/") if part != ".") or "/"
        if path[0] != "/":
            path = "/" + path
    if len(path) > 1 and path.endswith("/"):
        path = path[:-1]
    prefix = ""
    match = _RUNTIME_PREFIX.match(path)
    if match:
        prefix, path = path[:match.end()], path[match.end():]
    first, _, rest = path[1:].partition("/")
    if first in _MERGED_USR and rest:
        path = "/usr/" + first + "/" + rest
    head, _, base = path.rpartition("/")
    if base.startswith("libc.musl-"):
        musl = _MUSL_LIBC.match(base)
        if musl:
            path = head + "/ld-musl-" + musl.group(1) + ".so.1"
    return path, prefix


def normalize_path(path):
    """Canonical absolute path for comparison, or "" when it cannot be compared safely.

    ``./usr/lib/x`` and ``usr/lib/x`` -> ``/usr/lib/x``; duplicate slashes and
    ``.`` components removed; the runtime prefixes above stripped (once);
    merged /usr applied (``/lib64/x`` -> ``/usr/lib64/x``); musl's
    ``libc.musl-*.so.1`` folded onto the loader ``ld-musl-*.so.1``. A path
    with surrounding whitespace, control characters, backslashes, a scheme or
    a ``..`` component gives "" (never matched by path), as do memfd/deleted/fd
    paths and the vDSO names. The paths an SBOM lists go through this.
    """
    return _normalize(path)[0]


def load_path(path):
    """The path a load is matched on by path or package: :func:`normalize_path`, but "" for a path
    reached only by stripping a runtime prefix (a workload can create ``/run/containerd/...`` or
    ``/var/lib/docker/overlay2/<id>/merged`` in a writable folder of its own: such a load is
    matched by its digest alone; :func:`digest_only` says why)."""
    normalized, prefix = _normalize(path)
    return "" if prefix else normalized


# What is odd in a name: control characters, backslashes, anything beyond printable ASCII.
_ODD_CHARACTER = re.compile(r"[^\x21-\x7e]|\\")


def odd_characters(path):
    """The characters of ``path`` a reader could miss, escaped (``'\\xa0' at the end``), or ""."""
    found = []
    for match in _ODD_CHARACTER.finditer(path or ""):
        char = match.group()
        if char == " " and 0 < match.start() < len(path) - 1:
            continue  # a space inside a name is ordinary
        where = " at the start" if match.start() == 0 else " at the end" if match.end() == len(path) else ""
        text = ascii(char)[1:-1] if char != " " else "a space"
        entry = "'%s'%s" % (text, where) if char != " " else "a space" + where
        if entry not in found:
            found.append(entry)
        if len(found) >= 5:
            break
    return ", ".join(found)


def digest_only(path):
    """(stripped path or "", why) for a load path never matched by path or package.

    ``stripped``: the path after the runtime prefix, when that is what made it
    digest-only (a listed ``stripped`` path is then no proof either way); why:
    a sentence for ``sbom_reason`` that shows the odd character escaped.
    """
    if not path:
        return "", "the event has no library path"
    if _MEMFD.search(path):
        return "", "a fileless load (memfd or /proc fd: %s)" % ascii(path)
    if path.endswith(DELETED):
        return "", "the file was deleted while mapped (%s): judged by its digest" % ascii(path)
    normalized, prefix = _normalize(path)
    if normalized and prefix:
        return normalized, ("the path is reached only by stripping the runtime prefix %s, which a workload can "
                            "create in a writable folder: matched by digest only" % ascii(prefix))
    odd = odd_characters(path)
    if odd:
        return "", "the name does not match a listed file exactly (it holds %s): matched by digest only" % odd
    return "", "the path cannot be normalized safely (%s): matched by digest only" % ascii(path)


def in_library_dirs(normalized, families=()):
    """True for a normalized path directly in a standard library directory of the image's
    distribution family (``deb``, ``rpm``, ``apk``, ``alpm``: the purl types of its packages);
    with no known family, of any of them. Never /usr/local/lib."""
    known = [LIBRARY_DIRS[f] for f in families if f in LIBRARY_DIRS]
    if not known:
        return bool(_ANY_FAMILY.match(normalized))
    return any(pattern.match(normalized) for pattern in known)


def purl_family(purl):
    """The distribution family of a package purl (``pkg:deb/debian/zlib1g@...`` -> ``deb``), or ""."""
    head = (purl or "")[:10].lower()
    for family in LIBRARY_DIRS:
        if head.startswith("pkg:" + family + "/"):
            return family
    return ""


def normalize_digest(value):
    """Lower-case hex SHA-256 from ``sha256:<hex>`` (prefix in any case) or bare hex.

    Anything else (other algorithms, spaces, truncated or non-hex values) is
    "" (no digest).
    """
    if not value:
        return ""
    if len(value) == 71 and value[:7].lower() == "sha256:":
        value = value[7:]
    if len(value) == 64 and _HEX64.match(value):
        return value.lower()
    return ""


def digest_algorithm(value):
    """The algorithm a non-SHA-256 digest names (``sha512:...`` -> "sha512"), else ""."""
    head, sep, _ = (value or "").partition(":")
    return head.strip().lower() if sep and head.strip().isalnum() else ""


def digest_label(hexdigest):
    """``sha256:<hex>`` as events and the lookup write digests."""
    return "sha256:" + hexdigest if hexdigest else ""


# --- sonames (lower confidence: only for packages listed without files) -------

# soname stem -> package stems that ship it, for libraries whose package is not
# named after them. Stems are lower case, without "lib" and version suffixes.
SONAME_PACKAGES = {
    "ssl": ("openssl",), "crypto": ("openssl",), "z": ("zlib",),
    "c": ("glibc", "musl", "libc"), "m": ("glibc", "musl"), "pthread": ("glibc",),
    "dl": ("glibc",), "rt": ("glibc",), "resolv": ("glibc",), "util": ("glibc",),
    "ld_linux": ("glibc",), "ld_linux_x86_64": ("glibc",), "ld_linux_aarch64": ("glibc",),
    "ld_musl": ("musl",), "c.musl": ("musl",), "stdc++": ("gcc", "libstdc++"),
    "gcc_s": ("gcc", "libgcc"), "ffi": ("libffi",), "lzma": ("xz", "xz_utils"),
    "bz2": ("bzip2",), "gnutls": ("gnutls",), "gcrypt": ("libgcrypt",),
}
_SO_STEM = re.compile(r"^(.+?)\.so(?:\.[0-9][0-9.]*)?$")
_LD_MUSL = re.compile(r"^ld-musl-[A-Za-z0-9_]+$")
_PKG_SUFFIX = re.compile(r"(?:[-_](?:dev|devel|libs?|bin|common|runtime|utils))+$")
_TRAILING_VERSION = re.compile(r"[-_.]?[0-9][0-9.]*[a-z]?$")


def _stem(name):
    name = name.lower().replace("-", "_")
    if name.startswith("lib") and len(name) > 3:
        name = name[3:]
    return name


def soname_keys(path):
    """Stems a loaded library may be listed under: ``/usr/lib/libssl.so.3`` -> {ssl, openssl}."""
    base = path.rstrip("/").rsplit("/", 1)[-1]
    match = _SO_STEM.match(base)
    if not match:
        return ()
    stem = match.group(1)
    if _LD_MUSL.match(stem):
        stem = "ld-musl"
    keys = [_stem(stem)]
    keys.extend(SONAME_PACKAGES.get(keys[0], ()))
    return tuple(dict.fromkeys(k.replace("-", "_") for k in keys))


def package_key(name):
    """Stem of a package name: ``libssl3`` -> ``ssl``, ``zlib1g`` -> ``zlib``, ``glibc`` -> ``glibc``."""
    if not name:
        return ""
    name = name.strip().lower().rsplit("/", 1)[-1]
    name = _PKG_SUFFIX.sub("", name)
    stripped = _TRAILING_VERSION.sub("", name)
    if stripped and stripped not in ("lib",):
        name = stripped
    if name.endswith("1g"):  # Debian's zlib1g
        name = name[:-2]
    return _stem(name)
