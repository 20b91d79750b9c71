"""``claw-ta package``: build the installable add-on archive.

The archive holds one top-level folder, ``TA-claw-runtime/``, exactly as
Splunk Web's "Install app from file" expects. The third-party code the commands
import (splunklib) is not kept in git: the pinned requirements in
``app-requirements.txt`` are installed at build time (``pip install --no-deps
--target``, as splunk-app-examples and UCC do) into ``bin/sdk/<folder>/``, one
copy per Splunk Python (``claw_ta.sdk``: splunk-sdk 2.1.1 for 3.9, 3.0.x for
3.13); only their import packages are kept, not pip's ``*.dist-info`` records. Left out: dotfiles, ``local/``, ``*.egg-info`` (left by ``pip install -e``), ``local.meta``,
``*.pyc`` and ``__pycache__``, and the site and generated lookup tables
(``claw_ta_tools.lookups.STATE_FILES``) should a working copy hold one. Every entry is owned by root:root with mode
0755 (folders) or 0644 (files), so no file is world-writable or executable
outside what Splunk needs.

The user documentation ships too: ``docs/install.md`` (the administrator's
page) as the app's ``README.md`` and the other ``docs/*.md`` but the developer
pages as the app's ``docs/`` (``iter_doc_files``); the repository's README is
for developers and does not ship. ``THIRD-PARTY-NOTICES.txt`` names the
third-party distributions installed into ``bin/`` and carries their licences
(``third_party_notice``).
Their relative links are rewritten for the installed app (``shipped_markdown``):
a link into the app folder points at the shipped file, a link to a shipped page
stays, and a link to anything else in the repository (scenarios, tests) becomes
its plain text, so every link in the tarball resolves inside it.
"""
import gzip
import io
import os
import posixpath
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile

from claw_ta import APP_DIR, APP_NAME, app_version
from claw_ta_tools import REPO_DIR
from claw_ta_tools.lookups import STATE_FILES

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


REQUIREMENTS = os.path.join(REPO_DIR, "app-requirements.txt")
_INSTALLED = {}  # (Python, requirement lines) -> folder holding them installed, once per process
# Not copied: parts of a pinned package the app never imports and whose own requirements it does
# not ship (splunk-sdk 3's ``ai`` extra needs langchain, httpx, mcp, pydantic).
THIRD_PARTY_LEFT_OUT = {os.path.join("splunklib", "ai")}
_MARKER = re.compile(r'^\s*python_version\s*(<=|>=|==|!=|<|>)\s*["\']([\d.]+)["\']\s*$')
_SPEC = re.compile(r"^\s*(<=|>=|==|!=|<|>)\s*([\d.]+)\s*$")


def _version(text):
    return tuple(int(part) for part in text.split("."))


def _compare(left, op, right):
    width = max(len(left), len(right))
    left, right = left + (0,) * (width - len(left)), right + (0,) * (width - len(right))
    return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right,
            "==": left == right, "!=": left != right}[op]


def requirements_for(python, requirements=REQUIREMENTS):
    """The requirement lines of ``requirements`` (markers taken off) that apply to Python ``python``
    ("3.9"): a marker may only compare ``python_version`` (clauses joined by ``and``)."""
    found = []
    with open(requirements, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            requirement, _, marker = line.partition(";")
            applies = True
            for clause in (marker.split(" and ") if marker.strip() else []):
                match = _MARKER.match(clause)
                if match is None:
                    raise RuntimeError("%s line %d: only python_version markers are understood: %r"
                                       % (os.path.basename(requirements), number, clause.strip()))
                applies = applies and _compare(_version(python), match.group(1), _version(match.group(2)))
            if applies:
                found.append(requirement.strip())
    return found


def _check_requires_python(target, python):
    """RuntimeError when a package pip put in ``target`` says it does not run on ``python``."""
    for name in os.listdir(target):
        metadata = os.path.join(target, name, "METADATA")
        if not name.endswith(".dist-info") or not os.path.isfile(metadata):
            continue
        with open(metadata, encoding="utf-8", errors="replace") as handle:
            spec = next((line.split(":", 1)[1].strip() for line in handle
                         if line.lower().startswith("requires-python:")), "")
        for clause in filter(None, (c.strip() for c in spec.split(","))):
            match = _SPEC.match(clause)
            if match and not _compare(_version(python), match.group(1), _version(match.group(2))):
                raise RuntimeError("%s requires Python %s: not for the Python %s copy (app-requirements.txt)"
                                   % (name[:-len(".dist-info")], spec, python))


def third_party_dir(requirements=REQUIREMENTS, python=None):
    """A folder holding the pinned third-party packages for Python ``python`` ("3.9"; pip, once per
    process), their pip records (``*.dist-info``) included.

    pip installs for the target Python (``--python-version``), whatever Python
    builds the app; the packages' own Requires-Python is checked here instead
    of by pip (which would compare it with the building interpreter). Without
    ``python``: a folder holding only the pip records of every copy
    (``claw_ta.sdk.FOLDERS``), for what describes the distributions shipped.
    """
    if python is None:
        return _records_of_every_copy(requirements)
    lines = requirements_for(python, requirements)
    key = (python, tuple(lines))
    if key not in _INSTALLED or not os.path.isdir(_INSTALLED[key]):
        target = tempfile.mkdtemp(prefix="claw-ta-requirements-")
        if lines:
            proc = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-compile",
                                   "--disable-pip-version-check", "--ignore-requires-python", "--python-version",
                                   python, "--target", target] + lines,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
            if proc.returncode != 0:
                shutil.rmtree(target, ignore_errors=True)
                raise RuntimeError("pip could not install %s for Python %s:\n%s"
                                   % (requirements, python, proc.stderr.strip()))
            try:
                _check_requires_python(target, python)
            except RuntimeError:
                shutil.rmtree(target, ignore_errors=True)
                raise
        _INSTALLED[key] = target
    return _INSTALLED[key]


def third_party_dirs(requirements=REQUIREMENTS):
    """``{folder under bin/sdk: folder holding its installed packages}`` for every copy."""
    from claw_ta.sdk import FOLDERS
    return dict((folder, third_party_dir(requirements, "%d.%d" % lowest)) for folder, lowest in FOLDERS)


def _records_of_every_copy(requirements):
    key = ("records",) + tuple(sorted(third_party_dirs(requirements).values()))
    if key not in _INSTALLED or not os.path.isdir(_INSTALLED[key]):
        target = tempfile.mkdtemp(prefix="claw-ta-requirements-records-")
        for source in key[1:]:
            for name in os.listdir(source):
                if name.endswith(".dist-info") and not os.path.exists(os.path.join(target, name)):
                    shutil.copytree(os.path.join(source, name), os.path.join(target, name))
        _INSTALLED[key] = target
    return _INSTALLED[key]


def install_third_party(bin_dir, requirements=REQUIREMENTS):
    """Copy the pinned import packages into ``bin_dir/sdk/<folder>`` for each Python of
    ``claw_ta.sdk.FOLDERS`` (pip's dist-info and scripts left out); ``{folder: names}``."""
    installed = {}
    for folder, source in sorted(third_party_dirs(requirements).items()):
        dest = os.path.join(bin_dir, "sdk", folder)
        if os.path.isdir(dest):
            shutil.rmtree(dest)
        os.makedirs(dest)
        names = []
        for name in sorted(os.listdir(source)):
            path = os.path.join(source, name)
            if name.endswith((".dist-info", ".egg-info")) or name in ("bin", "__pycache__") or name.startswith("."):
                continue
            if os.path.isdir(path):
                shutil.copytree(path, os.path.join(dest, name), ignore=_left_out(source))
            else:
                shutil.copy2(path, os.path.join(dest, name))
            names.append(name)
        installed[folder] = names
    return installed


def _left_out(source):
    def ignore(directory, names):
        rel = os.path.relpath(directory, source)
        return [n for n in names if n == "__pycache__" or n.endswith(".pyc")
                or os.path.normpath(os.path.join(rel, n)) in THIRD_PARTY_LEFT_OUT]
    return ignore


LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]+)\)")
# A picture of the repository's docs (docs/img/): pictures do not ship, their alt text does.
IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)\)")


# The app's README.md is the administrator's page (docs/install.md), not the
# repository's developer README; developer pages do not ship.
ADMIN_README = "install.md"
DEVELOPER_PAGES = ("testing.md", "benchmarks.md", "design.md")


def iter_doc_files(repo_dir=REPO_DIR):
    """``[(path inside the app, source path)]`` of the user documentation (none outside a checkout).

    ``docs/install.md`` becomes the app's ``README.md``; every other page of
    ``docs/`` but the developer pages ships under ``docs/``.
    """
    found = []
    docs = os.path.join(repo_dir, "docs")
    if os.path.isdir(docs):
        for name in sorted(os.listdir(docs)):
            if name.endswith(".md") and not name.startswith(".") and name not in DEVELOPER_PAGES:
                found.append(("README.md" if name == ADMIN_README else "docs/" + name, os.path.join(docs, name)))
    return found


NOTICE = "THIRD-PARTY-NOTICES.txt"
LICENSES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "licenses")


def third_party_notice(sources):
    """The text of THIRD-PARTY-NOTICES.txt for the distributions pip installed into ``sources``
    (folders, or ``(folder, where its import packages ship in the app)``; default ``bin/``).

    Name, version, home page, author and licence from each ``*.dist-info``
    (the import packages ship, the dist-info does not), then the licence
    files the distribution carries, or the Apache License 2.0 text when it
    declares that licence and carries none.
    """
    parts = ["Third-party software in TA-claw-runtime\n"
             "=======================================\n\n"
             "bin/ holds these distributions, installed unmodified from PyPI when the package was built.\n"]
    licence_texts = []
    for source in sources:
        source, where = source if isinstance(source, tuple) else (source, "bin/")
        for name in sorted(os.listdir(source)):
            if not name.endswith(".dist-info"):
                continue
            folder = os.path.join(source, name)
            with open(os.path.join(folder, "METADATA"), encoding="utf-8") as handle:
                header = handle.read().split("\n\n", 1)[0]
            meta = {}
            for line in header.splitlines():
                key, _, value = line.partition(": ")
                meta.setdefault(key, []).append(value)
            first = lambda key: (meta.get(key) or [""])[0]  # noqa: E731
            licence = first("License-Expression") or first("License") or ", ".join(
                c.split(" :: ")[-1] for c in meta.get("Classifier", []) if c.startswith("License ::"))
            top = os.path.join(folder, "top_level.txt")
            modules = open(top, encoding="utf-8").read().split() if os.path.exists(top) else []
            parts.append("\n%s %s (%s%s)\n  Home page: %s\n  Author: %s\n  Licence: %s\n" % (
                first("Name"), first("Version"), where, (", " + where).join(modules) or "?", first("Home-page") or "-",
                first("Author") or "-", licence or "-"))
            carried = [os.path.join(root, f) for root, _, files in os.walk(folder) for f in files
                       if f.upper().startswith(("LICENSE", "LICENCE", "NOTICE", "COPYING"))]
            for path in sorted(carried):
                with open(path, encoding="utf-8", errors="replace") as handle:
                    licence_texts.append("--- %s %s: %s ---\n\n%s" % (
                        first("Name"), first("Version"), os.path.basename(path), handle.read()))
            if not carried and "apache" in (licence + " ".join(meta.get("Classifier", []))).lower():
                with open(os.path.join(LICENSES_DIR, "Apache-2.0.txt"), encoding="utf-8") as handle:
                    licence_texts.append("--- %s %s: Apache License 2.0 ---\n\n%s" % (
                        first("Name"), first("Version"), handle.read()))
    return "".join(parts) + "\n" + "\n".join(licence_texts)


def shipped_markdown(text, rel, shipped, app_files, app_folder=os.path.basename(APP_DIR)):
    """``text`` of the page shipped at ``rel`` (app-relative), its relative links made to resolve in the app.

    ``shipped`` maps repository-relative paths of shipped pages to their app paths;
    ``app_files`` is the set of app-relative files that ship.
    """
    source = next(repo for repo, app in shipped.items() if app == rel)

    def fix(match):
        label, target = match.group(1), match.group(2)
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith("#"):
            return match.group(0)
        path, _, anchor = target.partition("#")
        repo_path = posixpath.normpath(posixpath.join(posixpath.dirname(source), path))
        if repo_path in shipped:
            app_path = shipped[repo_path]
        elif repo_path.startswith(app_folder + "/") and repo_path[len(app_folder) + 1:] in app_files:
            app_path = repo_path[len(app_folder) + 1:]
        else:
            return label  # not in the installed app: keep the words, drop the link
        new = posixpath.relpath(app_path, posixpath.dirname(rel) or ".")
        return "[%s](%s%s)" % (label, new, "#" + anchor if anchor else "")

    text = IMAGE.sub(lambda m: m.group(0) if re.match(r"^[a-z][a-z0-9+.-]*:", m.group(2), re.I)
                     else "(picture: %s)" % m.group(1), text)
    return LINK.sub(fix, text)


def _tarinfo(name, mode, size=0, isdir=False):
    info = tarfile.TarInfo(name)
    info.mode = mode
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    info.mtime = 0 if os.environ.get("SOURCE_DATE_EPOCH") is None else int(os.environ["SOURCE_DATE_EPOCH"])
    info.size = size
    info.type = tarfile.DIRTYPE if isdir else tarfile.REGTYPE
    return info


def stage(root, app_dir=APP_DIR, requirements=REQUIREMENTS):
    """Lay the app out as it ships under ``root/TA-claw-runtime``; return that folder.

    The app's own files, the user documentation (links rewritten) and the pinned
    third-party packages: exactly the tarball's contents, runnable in place.
    """
    files = iter_app_files(app_dir)
    target = os.path.join(root, APP_NAME)
    for rel in files:
        os.makedirs(os.path.dirname(os.path.join(target, rel)), exist_ok=True)
        shutil.copyfile(os.path.join(app_dir, rel), os.path.join(target, rel))
    docs = dict((app_rel, source) for app_rel, source in iter_doc_files(os.path.dirname(app_dir))
                if app_rel not in files)
    shipped = dict((os.path.relpath(source, os.path.dirname(app_dir)).replace(os.sep, "/"), app_rel)
                   for app_rel, source in docs.items())
    # Pages link the repository's README; in the app that is the admin README
    # (added last, so that shipped_markdown finds docs/install.md as its source).
    shipped.setdefault("README.md", "README.md")
    for app_rel, source in docs.items():
        with open(source, encoding="utf-8") as handle:
            text = handle.read()
        os.makedirs(os.path.dirname(os.path.join(target, app_rel)), exist_ok=True)
        with open(os.path.join(target, app_rel), "w", encoding="utf-8", newline="") as handle:
            handle.write(shipped_markdown(text, app_rel, shipped, set(files), os.path.basename(app_dir)))
    os.makedirs(os.path.join(target, "bin"), exist_ok=True)
    install_third_party(os.path.join(target, "bin"), requirements)
    with open(os.path.join(target, NOTICE), "w", encoding="utf-8", newline="\n") as handle:
        handle.write(third_party_notice([(path, "bin/sdk/%s/" % folder)  # one copy per Python (claw_ta.sdk)
                                         for folder, path in sorted(third_party_dirs(requirements).items())]))
    return target


def built_app():
    """The app staged once per process (and its children, through ``CLAW_BUILT_APP``): what tests run."""
    path = os.environ.get("CLAW_BUILT_APP")
    if not path or not os.path.isdir(os.path.join(path, "bin")):
        path = stage(tempfile.mkdtemp(prefix="claw-ta-built-"))
        os.environ["CLAW_BUILT_APP"] = path
    return path


def build(output_dir="dist", app_dir=APP_DIR):
    """Write ``<output_dir>/TA-claw-runtime-<version>.tar.gz``; return its path."""
    version = app_version()
    os.makedirs(output_dir, exist_ok=True)
    target = os.path.join(output_dir, "%s-%s.tar.gz" % (APP_NAME, version))
    with tempfile.TemporaryDirectory() as root:
        staged = stage(root, app_dir)
        files = iter_app_files(staged)
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
                with open(os.path.join(staged, rel), "rb") as handle:
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
