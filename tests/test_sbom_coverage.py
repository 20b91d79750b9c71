"""Evidence levels and admin coverage: verdicts on real SBOMs, the file-level SBOM recipe, the coverage search.

- every real SBOM in ../shared/sboms/real that indexes: a legitimate library
  load of the kind real processes make is never ``unlisted`` under a
  package-only SBOM, and an attacker's load is never ``listed``;
- the CI recipe in docs/sbom.md ("A file-level SBOM from CI") is run as written,
  with cyclonedx-python-lib from PyPI, on a small root filesystem: its SBOM is
  indexed as ``files_sha256`` and catches a preloaded and a swapped library;
- the coverage report and its dashboard panel run the same SPL.
"""
import hashlib
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from claw_ta.sbom.index import build_tables
from claw_ta.sbom.matcher import SbomIndex
from claw_ta_tools.dashboards import studio
from claw_ta_tools.emulators import app_content
from tests.paths import REPO

DOCS = os.path.join(REPO, "docs", "sbom.md")
EVIL = "sha256:" + hashlib.sha256(b"attacker").hexdigest()
# Loads real processes make (SBOM lab capture: maps view and loader view), by libc family.
LEGITIMATE = ("/lib/ld-musl-x86_64.so.1", "/lib/libc.musl-x86_64.so.1", "/lib/libssl.so.1.1",
              "/lib/libcrypto.so.1.1", "/lib/libz.so.1", "/lib/x86_64-linux-gnu/libc.so.6",
              "/lib64/ld-linux-x86-64.so.2", "/usr/lib/x86_64-linux-gnu/libssl.so.3",
              "/usr/lib/x86_64-linux-gnu/libbrotlicommon.so.1", "/lib/x86_64-linux-gnu/libm.so.6",
              "/usr/lib/python3.11/lib-dynload/_ssl.cpython-311-x86_64-linux-gnu.so", "linux-vdso.so.1")
ATTACKS = ("/tmp/libfoo.so", "/var/cache/nginx/libssl.so.3", "/var/cache/nginx/linux-vdso.so.1",
           "/dev/shm/x.so", "/srv/app/rootfs/usr/lib/x86_64-linux-gnu/libssl.so.3", "/tmp/../lib/libz.so.1")


_REAL = {}


@pytest.fixture
def real(shared_dir):
    if shared_dir not in _REAL:
        _REAL[shared_dir] = build_tables([os.path.join(shared_dir, "sboms", "real")])
    tables, errors = _REAL[shared_dir]
    subjects = list(tables.subject_rows())
    assert len(subjects) >= 15 and len(errors) < 15, errors
    return SbomIndex.from_tables(tables), subjects


def test_real_package_only_sboms_never_call_a_legitimate_load_unlisted(real):
    index, subjects = real
    package_only = [s for s in subjects if s["evidence"] in ("packages", "none")]
    assert len(package_only) >= 8
    seen = set()
    for subject in package_only:
        digest = subject["subject_digest"]
        if subject["subject_kind"] == "index" or index.check_values(
                "library_load", "", digest, "/x", "")[0] == "no_sbom":
            continue
        for path in LEGITIMATE:
            result = index.check_values("library_load", "", digest, path, EVIL)
            if any(s["subject_digest"] == digest and s["evidence"].startswith("files") for s in subjects):
                continue  # also described by a file-level document
            assert result[0] != "unlisted", (subject["sbom_ref"], path, result)
            seen.add(result[:2])
    assert ("listed", "package") in seen  # e.g. syft's alpine CycloneDX: libssl1.1 -> /lib/libssl.so.1.1
    assert ("unverifiable", "") in seen


def test_real_sboms_never_call_an_attack_listed(real):
    index, subjects = real
    for subject in subjects:
        for path in ATTACKS:
            result = index.check_values("library_load", "", subject["subject_digest"], path, EVIL)
            assert result[0] != "listed", (subject["sbom_ref"], path, result)


def test_real_in_toto_links_give_files_sha256_and_catch_foreign_files(real):
    index, subjects = real
    links = [s for s in subjects if s["sbom_format"] == "in-toto-link"]
    assert links and all(s["evidence"] == "files_sha256" for s in links)
    for subject in links:
        assert index.check_values("library_load", "", subject["subject_digest"], "/tmp/libfoo.so",
                                  EVIL)[0] == "unlisted"


# --- the recipe -------------------------------------------------------------------

def recipe():
    text = open(DOCS, encoding="utf-8").read()
    blocks = re.findall(r"```python\n(# file_sbom\.py.*?)```", text, re.S)
    assert len(blocks) == 1, "docs/sbom.md: the file_sbom.py recipe"
    return blocks[0]


def test_ci_recipe_gives_a_file_level_sbom_that_catches_attacks(tmp_path):
    pytest.importorskip("cyclonedx")
    root = tmp_path / "rootfs"
    libdir = root / "usr" / "lib" / "x86_64-linux-gnu"
    libdir.mkdir(parents=True)
    files = {"libz.so.1.2.13": b"\x7fELF zlib", "libssl.so.3": b"\x7fELF openssl", "libc.so.6": b"\x7fELF libc"}
    for name, content in files.items():
        (libdir / name).write_bytes(content)
    os.symlink("libz.so.1.2.13", str(libdir / "libz.so.1"))
    script = tmp_path / "file_sbom.py"
    script.write_text(recipe())
    image = "sha256:" + hashlib.sha256(b"the pushed image").hexdigest()
    out = subprocess.run([sys.executable, str(script), str(root), image, "registry.example.com/shop/web"],
                         check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE).stdout
    sboms = tmp_path / "sboms"
    sboms.mkdir()
    (sboms / "web.cdx.json").write_bytes(out)
    tables, errors = build_tables([str(sboms)])
    assert errors == []
    subjects = list(tables.subject_rows())
    assert [(s["subject_digest"], s["evidence"]) for s in subjects] == [(image, "files_sha256")]
    index = SbomIndex.from_tables(tables)

    def status(path, content):
        return index.check_values("library_load", "", image, path,
                                  "sha256:" + hashlib.sha256(content).hexdigest())[:2]
    assert status("/lib/x86_64-linux-gnu/libz.so.1", files["libz.so.1.2.13"]) == ("listed", "digest")  # loader view
    assert status("/usr/lib/x86_64-linux-gnu/libc.so.6", files["libc.so.6"]) == ("listed", "digest")
    assert status("/usr/lib/x86_64-linux-gnu/libz.so.1.2.13", b"swapped zlib") == ("unlisted", "path")
    assert status("/usr/lib/x86_64-linux-gnu/libfoo.so", b"preloaded") == ("unlisted", "")
    assert status("/tmp/_evil.cpython-311-x86_64-linux-gnu.so", b"dropped") == ("unlisted", "")


# --- the coverage search -------------------------------------------------------------

def test_coverage_panel_runs_the_saved_search_spl():
    content = app_content.AppContent()
    saved = content.savedsearches["Claw - SBOM Coverage by Image"]["search"]
    with open(os.path.join(REPO, "TA-claw-runtime", "default", "data", "ui", "views",
                           "claw_runtime_overview.xml"), encoding="utf-8") as handle:
        definition = studio.parse_view(handle.read())[3]
    panels = [definition["dataSources"][v["dataSources"]["primary"]]["options"]["query"]
              for v in definition["visualizations"].values() if "sbom coverage" in v.get("title", "").lower()]
    norm = lambda spl: re.sub(r"\s+", " ", spl).strip()  # noqa: E731
    assert [norm(q) for q in panels] == [norm(saved)]
    assert "| clawsbomcheck" in saved and "lookup claw_sbom_subjects subject_digest AS image_digest" in saved
    for field in ("evidence", "unverifiable_pct", "no_sbom_pct", "reasons"):
        assert field in saved
