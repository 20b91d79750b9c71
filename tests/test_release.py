"""The release is versioned where Splunk reads it, and its notes ship.

app.conf spec: ``[launcher] version`` and ``[id] version`` name the release,
``[install] build`` must change with every release (Splunk Web also uses it
to bust cached static files):
https://help.splunk.com/en/data-management/splunk-enterprise-admin-manual/10.0/10.0.0-configuration-file-reference/app.conf
(app.manifest and setup.py agreeing is tests/test_package.py.)
"""
import os
import re

from claw_ta import app_version
from claw_ta import conffile as conf
from tests import paths


def _notes():
    with open(os.path.join(paths.REPO, "docs", "release-notes.md"), encoding="utf-8") as handle:
        return handle.read()


def test_the_release_notes_open_with_this_version_and_build():
    app = conf.app_conf("app")
    headings = re.findall(r"^## (\d+\.\d+\.\d+) \(build (\d+)\)$", _notes(), re.M)
    assert headings[0] == (app_version(), app["install"]["build"])


def test_every_release_has_its_own_build_and_a_newer_version():
    headings = re.findall(r"^## (\d+\.\d+\.\d+) \(build (\d+)\)$", _notes(), re.M)
    builds = [int(b) for _, b in headings]
    versions = [tuple(int(p) for p in v.split(".")) for v, _ in headings]
    assert len(headings) >= 2
    assert builds == sorted(builds, reverse=True) and len(set(builds)) == len(builds)
    assert versions == sorted(versions, reverse=True) and len(set(versions)) == len(versions)


def test_the_notes_are_linked_for_developers_and_administrators():
    for page in ("README.md", os.path.join("docs", "install.md")):
        with open(os.path.join(paths.REPO, page), encoding="utf-8") as handle:
            assert "release-notes.md" in handle.read(), page
