"""``claw-ta package``: build the installable add-on archive.

The archive holds one top-level folder, ``TA-claw-runtime/``, exactly as
Splunk Web's "Install app from file" expects, with splunklib (vendored in
``bin/splunklib``) inside. Left out: dotfiles, ``local/``, ``*.egg-info`` (left by ``pip install -e``), ``local.meta``,
``*.pyc`` and ``__pycache__``, and the site and generated lookup tables
(``claw_ta.lookups.STATE_FILES``) should a working copy hold one. Every entry is owned by root:root with mode
0755 (folders) or 0644 (files), so no file is world-writable or executable
outside what Splunk needs.
"""
import gzip
import io
import os
import tarfile

from claw_ta import APP_DIR, APP_NAME, app_version
from claw_ta.lookups import STATE_FILES

EXCLUDED_DIRS = {"__pycache__", "local"}
EXCLUDED_SUFFIXES = (".pyc", ".pyo", ".swp", "~")
EXCLUDED_FILES = {"local.meta"}


def add_arguments(parser):
    parser.add_argument("--output", "-o", default="dist", metavar="DIR",
                        help="folder that receives the archive (default: dist)")


def iter_app_files(app_dir=APP_DIR):
    """Relative paths (inside the app) of every file that ships, sorted."""
    found = []
    for root, dirs, files in os.walk(app_dir):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in EXCLUDED_DIRS
                         and not d.endswith(".egg-info"))
        for name in sorted(files):
            if name.startswith(".") or name in EXCLUDED_FILES or name.endswith(EXCLUDED_SUFFIXES):
                continue
            path = os.path.join(root, name)
            if os.path.islink(path):
                continue
            relative = os.path.relpath(path, app_dir)
            if os.path.dirname(relative) == "lookups" and name in STATE_FILES:
                continue  # site or generated state: shipping it would overwrite the site's on upgrade
            found.append(relative)
    return found


def _tarinfo(name, mode, size=0, isdir=False):
    info = tarfile.TarInfo(name)
    info.mode = mode
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    info.mtime = 0 if os.environ.get("SOURCE_DATE_EPOCH") is None else int(os.environ["SOURCE_DATE_EPOCH"])
    info.size = size
    info.type = tarfile.DIRTYPE if isdir else tarfile.REGTYPE
    return info


def build(output_dir="dist", app_dir=APP_DIR):
    """Write ``<output_dir>/TA-claw-runtime-<version>.tar.gz``; return its path."""
    version = app_version()
    os.makedirs(output_dir, exist_ok=True)
    target = os.path.join(output_dir, "%s-%s.tar.gz" % (APP_NAME, version))
    files = iter_app_files(app_dir)
    dirs = set()
    for rel in files:
        parent = os.path.dirname(rel)
        while parent:
            dirs.add(parent)
            parent = os.path.dirname(parent)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        tar.addfile(_tarinfo(APP_NAME, 0o755, isdir=True))
        for rel in sorted(dirs):
            tar.addfile(_tarinfo(APP_NAME + "/" + rel.replace(os.sep, "/"), 0o755, isdir=True))
        for rel in files:
            with open(os.path.join(app_dir, rel), "rb") as handle:
                data = handle.read()
            info = _tarinfo(APP_NAME + "/" + rel.replace(os.sep, "/"), 0o644, size=len(data))
            tar.addfile(info, io.BytesIO(data))
    with open(target, "wb") as handle:
        with gzip.GzipFile(fileobj=handle, mode="wb", mtime=0, filename="") as gz:
            gz.write(raw.getvalue())
    return target


def run(args):
    print(build(args.output))
    return 0
