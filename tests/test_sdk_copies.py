"""How `claw-ta package` picks and installs one splunk-sdk per Splunk Python (claw_ta/sdk.py).

app-requirements.txt pins a copy per Python with environment markers; each is
installed for its target Python whatever Python builds the app, and a pin whose
own Requires-Python excludes that Python is refused rather than shipped.
"""
import os

import pytest

from claw_ta import sdk
from claw_ta_tools import package


def test_each_folder_has_one_pin_and_the_loader_picks_the_folder_by_python():
    assert package.requirements_for("3.9") == ["splunk-sdk==2.1.1"]
    assert package.requirements_for("3.13") == ["splunk-sdk==3.0.1"]
    assert [sdk.folder_for(v) for v in ((3, 9, 18), (3, 11, 7), (3, 12, 0), (3, 13, 0), (3, 14, 1))] == \
        ["py39", "py39", "py39", "py313", "py313"]


def test_a_marker_other_than_python_version_is_refused(tmp_path):
    requirements = tmp_path / "req.txt"
    requirements.write_text('splunk-sdk==2.1.1; sys_platform == "linux"\n')
    with pytest.raises(RuntimeError, match="only python_version markers"):
        package.requirements_for("3.9", str(requirements))


def test_a_pin_whose_requires_python_excludes_the_copy_is_refused(tmp_path):
    """splunk-sdk 3.0.1 declares Requires-Python >=3.13: pinned for 3.9, the build stops."""
    requirements = tmp_path / "req.txt"
    requirements.write_text("splunk-sdk==3.0.1\n")
    with pytest.raises(RuntimeError, match=r"requires Python >=3\.13.*3\.9"):
        package.third_party_dir(str(requirements), "3.9")


def test_without_a_python_the_records_of_every_copy():
    names = sorted(n for n in os.listdir(package.third_party_dir()) if n.endswith(".dist-info"))
    assert names == ["splunk_sdk-2.1.1.dist-info", "splunk_sdk-3.0.1.dist-info"]
    folders = package.third_party_dirs()
    assert sorted(folders) == ["py313", "py39"]
    assert all(os.path.isdir(os.path.join(path, "splunklib")) for path in folders.values())


def test_a_missing_copy_is_an_import_error_naming_it(tmp_path, monkeypatch):
    monkeypatch.setattr(sdk, "SDK_DIR", str(tmp_path))
    with pytest.raises(ImportError, match="py313"):
        sdk.use_splunklib((3, 13, 0))
