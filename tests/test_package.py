"""`claw-ta package`: archive contents, permissions, version in one place."""
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile

import pytest

from claw_ta import conffile as conf
from tests import paths

sys.path.insert(0, paths.APP_BIN)
from claw_ta import app_version
from claw_ta_tools import package  # noqa: E402

COMPILED = (".so", ".pyd", ".dll", ".dylib", ".exe", ".o", ".a", ".class", ".jar")


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run([sys.executable, "-m", "claw_ta_tools.cli", "package", "--output", str(out)],
                          cwd=paths.REPO, env=paths.source_env(), capture_output=True, text=True, check=True)
    path = proc.stdout.strip().splitlines()[-1]
    assert path == os.path.join(str(out), "TA-claw-runtime-%s.tar.gz" % app_version())
    return path


def members(path):
    with tarfile.open(path) as tar:
        return tar.getmembers()


def test_one_top_level_folder_named_after_the_app(archive):
    names = [m.name for m in members(archive)]
    assert {n.split("/")[0] for n in names} == {"TA-claw-runtime"}
    for required in ("app.manifest", "default/app.conf", "metadata/default.meta",
                     "bin/sdk/py39/splunklib/__init__.py", "bin/sdk/py313/splunklib/__init__.py", "bin/claw_ta/__init__.py", "static/appIcon.png",
                     "README.txt", "README.md", "docs/detections.md", "LICENSE.txt"):
        assert "TA-claw-runtime/" + required in names


def test_nothing_that_must_not_ship(archive):
    for member in members(archive):
        parts = member.name.split("/")
        assert not any(p.startswith(".") for p in parts), member.name
        assert "__pycache__" not in parts and "local" not in parts[1:2], member.name
        assert not member.name.endswith((".pyc", ".pyo", "local.meta")), member.name
        assert not member.name.endswith(COMPILED), member.name
        assert member.issym() is False and member.islnk() is False


def test_sane_permissions_and_owner(archive):
    for member in members(archive):
        assert member.uid == 0 and member.gid == 0
        assert member.mode == (0o755 if member.isdir() else 0o644), member.name


def test_only_the_sdk_copies_and_claw_ta_are_packages_in_bin(archive):
    packages = {m.name.split("/")[2] for m in members(archive)
                if m.name.startswith("TA-claw-runtime/bin/") and m.name.count("/") >= 3}
    assert packages == {"sdk", "claw_ta"}
    copies = {tuple(m.name.split("/")[3:5]) for m in members(archive)
              if m.name.startswith("TA-claw-runtime/bin/sdk/") and m.name.count("/") >= 5}
    assert copies == {("py39", "splunklib"), ("py313", "splunklib")}


def test_each_python_gets_its_pinned_splunklib_without_pip_records(archive):
    """2.1.1 for Splunk's 3.9, 3.0.1 for 3.13 (3.0 has no __version_info__: its binding.py reads the
    version from package metadata, which the app does not ship; the protocol tests show the commands
    do not need it). splunk-sdk 3's ``ai`` extra is left out (its requirements are not shipped)."""
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        init39 = tar.extractfile("TA-claw-runtime/bin/sdk/py39/splunklib/__init__.py").read().decode("utf-8")
        binding313 = tar.extractfile("TA-claw-runtime/bin/sdk/py313/splunklib/binding.py").read().decode("utf-8")
    assert re.search(r"^__version_info__ = \(2, 1, 1\)", init39, re.M)
    assert 'importlib.metadata.version("splunk-sdk")' in binding313  # the 3.x layout
    assert "TA-claw-runtime/bin/sdk/py313/splunklib/searchcommands/search_command.py" in names
    assert not [n for n in names if "/splunklib/ai/" in n or n.endswith("/splunklib/ai")]
    assert not [n for n in names if ".dist-info" in n or ".egg-info" in n]


def test_third_party_code_is_pinned_not_committed():
    """splunk-sdk is pinned exactly (clawsbomcheck and claw_ta.scp rely on its internals) and not in git."""
    with open(os.path.join(paths.REPO, "app-requirements.txt"), encoding="utf-8") as handle:
        pins = [line.strip() for line in handle if line.strip() and not line.startswith("#")]
    assert pins == ['splunk-sdk==2.1.1; python_version < "3.13"', 'splunk-sdk==3.0.1; python_version >= "3.13"']
    tracked = subprocess.run(["git", "ls-files", "TA-claw-runtime/bin"], cwd=paths.REPO,
                             capture_output=True, text=True)
    if tracked.returncode != 0:
        pytest.skip("not a git checkout")
    assert not [n for n in tracked.stdout.split() if "/splunklib/" in n or "/sdk/" in n or ".egg-info" in n]


def test_version_is_the_same_everywhere():
    version = app_version()
    assert re.match(r"^\d+\.\d+\.\d+$", version)
    app = conf.app_conf("app")
    assert app["launcher"]["version"] == app["id"]["version"] == version
    with open(os.path.join(paths.APP, "app.manifest"), encoding="utf-8") as handle:
        assert json.load(handle)["info"]["id"]["version"] == version
    setup_version = subprocess.run([sys.executable, "setup.py", "--version"], cwd=paths.REPO,
                                   capture_output=True, text=True, check=True).stdout.split()[-1]
    assert setup_version == version


def test_excluded_files_are_left_out(tmp_path):
    app = tmp_path / "TA-claw-runtime"
    for rel in ("default/app.conf", "local/app.conf", "bin/x.py", "bin/__pycache__/x.pyc",
                "bin/.hidden", "metadata/local.meta", ".git/config",
                "bin/ta_claw_runtime.egg-info/PKG-INFO"):
        (app / rel).parent.mkdir(parents=True, exist_ok=True)
        (app / rel).write_text("x")
    assert package.iter_app_files(str(app)) == ["bin/x.py", "default/app.conf"]


def _markdown_members(path):
    with tarfile.open(path) as tar:
        names = {m.name for m in tar.getmembers()}
        pages = dict((m.name, tar.extractfile(m).read().decode("utf-8"))
                     for m in tar.getmembers() if m.isfile() and m.name.endswith(".md"))
    return names, pages


def test_the_user_documentation_ships_with_the_app(archive):
    names, pages = _markdown_members(archive)
    repo_pages = sorted(f for f in os.listdir(os.path.join(paths.REPO, "docs")) if f.endswith(".md")
                        and f not in package.DEVELOPER_PAGES and f != package.ADMIN_README)
    assert sorted(n.split("/")[-1] for n in pages if n.startswith("TA-claw-runtime/docs/")) == repo_pages
    assert "TA-claw-runtime/README.md" in pages
    with tarfile.open(archive) as tar:
        readme_txt = tar.extractfile("TA-claw-runtime/README.txt").read().decode("utf-8")
    # README.txt names only documentation that is in the package
    for mentioned in re.findall(r"\b(README\.md|docs/|THIRD-PARTY-NOTICES\.txt|README/[\w.]+)", readme_txt):
        assert any(n.startswith("TA-claw-runtime/" + mentioned) for n in names), mentioned


def test_every_relative_link_in_the_shipped_documentation_resolves_inside_the_tarball(archive):
    names, pages = _markdown_members(archive)
    dirs = {n.rstrip("/") for n in names}
    checked = 0
    for name, text in pages.items():
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith("#"):
                continue
            resolved = os.path.normpath(os.path.join(os.path.dirname(name), target.split("#")[0]))
            assert resolved.startswith("TA-claw-runtime/") and resolved in dirs, "%s: %s" % (name, target)
            checked += 1
    assert checked >= 20  # the README's page list and the pages' links back to it


def test_links_are_rewritten_for_the_installed_app():
    shipped = {"README.md": "README.md", "docs/tuning.md": "docs/tuning.md"}
    text = ("[back](../README.md) [spec](../TA-claw-runtime/README/x.spec) [s](../scenarios/attack-x/) "
            "[web](https://example.com/a.md) [here](#top) [gone](../TA-claw-runtime/local/x.conf)")
    out = package.shipped_markdown(text, "docs/tuning.md", shipped, {"README/x.spec"}, "TA-claw-runtime")
    assert out == ("[back](../README.md) [spec](../README/x.spec) s "
                   "[web](https://example.com/a.md) [here](#top) gone")
    # Pictures (docs/img/) do not ship: their alt text does, without a dangling "!".
    assert package.shipped_markdown("see ![the overview](img/o.png).", "docs/tuning.md", shipped, set(),
                                    "TA-claw-runtime") == "see (picture: the overview)."
    assert package.shipped_markdown("[a](docs/tuning.md#x)", "README.md", shipped, set(), "TA-claw-runtime") \
        == "[a](docs/tuning.md#x)"


def test_an_editable_install_writes_nothing_into_the_app(tmp_path):
    """`pip install -e .` builds through PEP 660 (pyproject.toml); its *.egg-info must not land in
    TA-claw-runtime/bin (it did while setup.py mapped the root package folder to bin/)."""
    src = tmp_path / "src"
    for rel in ("setup.py", "pyproject.toml", "TA-claw-runtime/default/app.conf"):
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(os.path.join(paths.REPO, rel), str(src / rel))
    for rel in ("TA-claw-runtime/bin/claw_ta", "tools/claw_ta_tools"):
        shutil.copytree(os.path.join(paths.REPO, rel), str(src / rel),
                        ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "wheel").mkdir()
    code = ("import sys; from setuptools import build_meta as b\n"  # the hooks pip calls, in its order
            "b.prepare_metadata_for_build_editable(sys.argv[1]); b.build_editable(sys.argv[1])")
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path / "wheel")], cwd=str(src),
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    # pip without a pyproject.toml (or an older pip) runs setup.py's egg_info in the source tree
    legacy = subprocess.run([sys.executable, "setup.py", "-q", "egg_info"], cwd=str(src), capture_output=True, text=True)
    assert legacy.returncode == 0, legacy.stderr[-3000:]
    written = [os.path.relpath(os.path.join(root, d), str(src)) for root, dirs, _ in os.walk(str(src))
               for d in dirs if d.endswith(".egg-info")]
    assert not [w for w in written if w.startswith(("TA-claw-runtime", "tools"))], written
