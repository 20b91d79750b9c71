"""The app passes the Splunk tools: ksconf check, slim validate, AppInspect (cloud)."""
import glob
import json
import os
import shutil
import subprocess
import sys

import pytest

from tests import paths


def tool(name):
    found = shutil.which(name) or os.path.join(os.path.dirname(sys.executable), name)
    if not os.path.exists(found):
        pytest.skip("%s is not installed (pip install -e '.[test]')" % name)
    return found


def test_ksconf_check_every_conf_file():
    files = sorted(glob.glob(os.path.join(paths.APP_DEFAULT, "*.conf")))
    assert len(files) >= 8
    proc = subprocess.run([tool("ksconf"), "check"] + files, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_slim_validate_has_no_errors():
    proc = subprocess.run([tool("slim"), "validate", paths.APP], capture_output=True, text=True)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "[ERROR]" not in output, output


@pytest.fixture(scope="module")
def appinspect_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("appinspect")
    sys.path.insert(0, paths.APP_BIN)
    from claw_ta_tools import package
    archive = package.build(str(out))
    report = str(out / "report.json")
    subprocess.run([tool("splunk-appinspect"), "inspect", archive, "--mode", "precert",
                    "--included-tags", "cloud", "--skip-trusted-libraries-update",
                    "--data-format", "json", "--output-file", report],
                   capture_output=True, text=True, timeout=1200)
    with open(report, encoding="utf-8") as handle:
        return json.load(handle)


def test_appinspect_cloud_has_no_failures_errors_or_future_failures(appinspect_report):
    summary = appinspect_report["summary"]
    bad = []
    for report in appinspect_report["reports"]:
        for group in report["groups"]:
            for check in group["checks"]:
                if check["result"] in ("failure", "error", "future_failure", "manual_check"):
                    bad.append((check["name"], check["result"],
                                [m.get("message") for m in check.get("messages", [])][:3]))
    assert summary["failure"] == summary["error"] == summary["future_failure"] == 0, bad
    assert summary["success"] > 50


def test_the_sdk_version_warning_names_only_the_copy_for_python_3_9(appinspect_report):
    """AppInspect's check_python_sdk_version asks for splunk-sdk 3.0 or later. splunk-sdk 3.0 requires
    Python 3.13, so the copy for Splunk 9.3-10.0's Python 3.9 stays at 2.1.1 (claw_ta/sdk.py) and is
    the only one the check may warn about; the 3.13 copy draws no warning."""
    messages = [(check["result"], m.get("message") or "")
                for report in appinspect_report["reports"] for group in report["groups"]
                for check in group["checks"] if check["name"] == "check_python_sdk_version"
                for m in check.get("messages", [])]
    warned = [text for result, text in messages if result == "warning"]
    assert warned, messages  # the check ran and found the copies
    assert all("bin/sdk/py39/" in text and "(2.1.1)" in text for text in warned), warned
