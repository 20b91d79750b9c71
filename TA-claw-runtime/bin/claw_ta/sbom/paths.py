"""Path, digest and soname normalization shared by the SBOM index and the matcher.

Both sides of a comparison go through the same functions: the paths an SBOM
lists (often relative, ``./usr/lib/...``) and the paths the loader reported
(often inside a container overlay, ``.../rootfs/usr/lib/...``).
"""
import posixpath
import re

_SLASHES = re.compile(r"/{2,}")
# Container and overlay prefixes in front of the path the container sees.
_OVERLAY = re.compile(
    r"^(?:"
    r".*/snapshots/\d+/fs"              # containerd overlayfs snapshotter
    r"|.*/overlay2/[^/]+/(?:merged|diff)"  # docker overlay2
    r"|.*/rootfs"                       # containerd task / runc bundle rootfs
    r"|/proc/(?:\d+|self)/root"         # /proc/<pid>/root/ view of a container
    r")(?=/)")
# Paths that name no file the SBOM could list: match by digest only.
_UNMATCHABLE = re.compile(r"^/?memfd:|\(deleted\)\s*$|^/proc/(?:\d+|self|thread-self)/fd/|^/dev/shm/|^\[anon")
# Merged /usr: /lib -> /usr/lib and so on (Debian >= 12, Fedora, Arch, Ubuntu).
_MERGED_USR = ("lib", "lib32", "lib64", "libx32", "bin", "sbin")
# musl: /lib/libc.musl-<arch>.so.1 is a symlink to the loader /lib/ld-musl-<arch>.so.1,
# the loader resolves it, and SBOM generators list either name.
_MUSL_LIBC = re.compile(r"^libc\.musl-([A-Za-z0-9_]+)\.so\.1$")
# Kernel-provided images: not files, never in an SBOM.
VDSO_NAMES = frozenset(("[vdso]", "[vsyscall]", "[vvar]", "linux-vdso.so.1",
                        "linux-gate.so.1", "linux-vdso32.so.1", "linux-vdso64.so.1"))
_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")


def is_vdso(path):
    """True for the kernel's vDSO (``[vdso]``, ``linux-vdso.so.1``): not a file."""
    return path.strip() in VDSO_NAMES or path.rsplit("/", 1)[-1] in VDSO_NAMES


def is_unmatchable(path):
    """True for paths that cannot be compared by path (memfd, deleted, /proc/self/fd/N)."""
    return bool(_UNMATCHABLE.search(path.strip()))


def normalize_path(path):
    """Canonical absolute path for comparison, or "" when there is none.

    ``./usr/lib/x`` and ``usr/lib/x`` -> ``/usr/lib/x``; duplicate slashes and
    ``.``/``..`` resolved; container overlay prefixes stripped; merged /usr
    applied (``/lib64/x`` -> ``/usr/lib64/x``); musl's ``libc.musl-*.so.1``
    folded onto the loader ``ld-musl-*.so.1``.
    """
    if not path:
        return ""
    path = path.strip()
    if path.startswith("file://"):
        path = path[7:]
    if not path or is_unmatchable(path) or is_vdso(path):
        return ""
    path = path.replace("\\", "/")
    if not path.startswith("/"):
        path = "/" + path
    path = _SLASHES.sub("/", path)
    path = posixpath.normpath(path)
    match = _OVERLAY.match(path)
    if match:
        path = path[match.end():] or "/"
    first, _, rest = path[1:].partition("/")
    if first in _MERGED_USR and rest:
        path = "/usr/" + first + "/" + rest
    head, _, base = path.rpartition("/")
    musl = _MUSL_LIBC.match(base)
    if musl:
        path = head + "/ld-musl-" + musl.group(1) + ".so.1"
    return path


def normalize_digest(value):
    """Lower-case hex sha256 from ``sha256:<hex>`` or bare hex; "" if it is not one."""
    if not value:
        return ""
    value = value.strip()
    if value[:7].lower() == "sha256:":
        value = value[7:]
    if len(value) == 64 and _HEX64.match(value):
        return value.lower()
    return ""


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
