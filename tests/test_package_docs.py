"""What the package tells an administrator who has only the tarball, and the third-party notice.

- The app's README.md is docs/install.md (install, index and macros, enabling
  detections, the tables, upgrading), not the developers' README; developer
  pages (testing, benchmarks, design) do not ship.
- THIRD-PARTY-NOTICES.txt names every distribution installed into bin/ (the
  Splunk SDK for Python, Apache License 2.0, whose section 4(a) asks that
  recipients get a copy of the License: https://www.apache.org/licenses/LICENSE-2.0)
  with its version and the licence text.
"""
import re
import tarfile

import pytest

from claw_ta_tools import package

APP = "TA-claw-runtime/"
DEVELOPER_WORDS = ("pip install -e", ".venv", "pytest", "python3 -m venv")


@pytest.fixture(scope="module")
def contents(tmp_path_factory):
    archive = package.build(str(tmp_path_factory.mktemp("docs-dist")))
    with tarfile.open(archive) as tar:
        return dict((m.name, tar.extractfile(m).read().decode("utf-8", errors="replace"))
                    for m in tar.getmembers() if m.isfile() and m.name.endswith((".md", ".txt", ".py")))


def test_the_apps_readme_is_the_administrators_page(contents):
    readme = contents[APP + "README.md"]
    assert readme.startswith("# TA-claw-runtime: install and run the add-on")
    for word in DEVELOPER_WORDS:
        assert word not in readme, word
    for topic in ("Install app from file", "claw_runtime_index", "Enable the detections", "Lookup Editor",
                  "Upgrading", "THIRD-PARTY-NOTICES.txt", "claw_admin"):
        assert topic in readme, topic
    assert "](docs/release-notes.md)" in readme and "](docs/tuning.md#" in readme


def test_developer_pages_do_not_ship_and_links_to_them_are_plain_text(contents):
    for page in package.DEVELOPER_PAGES + (package.ADMIN_README,):
        assert APP + "docs/" + page not in contents, page
    for name, text in contents.items():
        if name.endswith(".md"):
            for page in package.DEVELOPER_PAGES:
                assert not re.search(r"\]\([^)\s]*%s" % re.escape(page), text), (name, page)


def test_the_pages_link_back_to_the_apps_readme(contents):
    assert "[Back to the README](../README.md)" in contents[APP + "docs/fields.md"]


def test_the_notice_names_the_bundled_splunklib_with_its_version_and_licence(contents):
    """Each Python's copy (claw_ta/sdk.py): 2.1.1 in bin/sdk/py39 (it says its version in
    __version_info__), 3.0.1 in bin/sdk/py313 (its version only in the package metadata)."""
    notice = contents[APP + package.NOTICE]
    version = re.search(r"^__version_info__ = \((\d+), (\d+), (\d+)\)",
                        contents[APP + "bin/sdk/py39/splunklib/__init__.py"], re.M)
    assert version, "bin/sdk/py39/splunklib/__init__.py has no __version_info__"
    assert re.search(r"^splunk-sdk %s \(bin/sdk/py39/splunklib\)$" % re.escape(".".join(version.groups())),
                     notice, re.M)
    assert re.search(r"^splunk-sdk 3\.0\.\d+ \(bin/sdk/py313/splunklib\)$", notice, re.M)
    assert "Author: Splunk, Inc." in notice
    assert "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION" in notice
    assert "TA-claw-runtime/README.txt" in contents and package.NOTICE in contents[APP + "README.txt"]


def test_the_notice_lists_every_distribution_it_is_given(tmp_path):
    """Two fake dist-infos: one carrying its licence file, one declaring MIT only."""
    for name, meta, extra in (("a_pkg-1.0.dist-info", "Name: a-pkg\nVersion: 1.0\nLicense: BSD-3-Clause\n",
                               {"LICENSE": "BSD text here"}),
                              ("b-2.0.dist-info", "Name: b\nVersion: 2.0\nClassifier: License :: OSI Approved :: MIT License\n", {})):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "METADATA").write_text(meta + "\nlong description\n")
        (folder / "top_level.txt").write_text(name.split("-")[0].split("_")[0] + "\n")
        for file_name, text in extra.items():
            (folder / file_name).write_text(text)
    notice = package.third_party_notice([str(tmp_path)])
    assert "a-pkg 1.0 (bin/a)" in notice and "Licence: BSD-3-Clause" in notice and "BSD text here" in notice
    assert "b 2.0 (bin/b)" in notice and "Licence: MIT License" in notice
    assert "a-pkg 1.0 (bin/sdk/py39/a)" in package.third_party_notice([(str(tmp_path), "bin/sdk/py39/")])
    assert "long description" not in notice and "Apache" not in notice


def test_the_apps_readme_links_every_page_that_ships():
    import os
    from tests import paths
    with open(os.path.join(paths.REPO, "docs", package.ADMIN_README), encoding="utf-8") as handle:
        linked = set(re.findall(r"\]\(([\w-]+\.md)(?:#[^)]*)?\)", handle.read()))
    shipped = set(rel.split("/")[-1] for rel, _ in package.iter_doc_files() if rel != "README.md")
    assert shipped - linked == set()
