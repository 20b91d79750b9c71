"""The add-on's offline tools: everything that is not run by Splunk.

The ``claw-ta`` command line (``cli``): ``package`` (build the Splunk tarball),
``sbom-index`` (index SBOMs into the lookup tables), ``replay`` and
``evaluate`` (the detections over scenario folders); the conf generator
(``detections.generate``), the scenario generators (``scenarios``) and the
Splunk emulators the tests and benchmarks use (``emulators``). These import
the app's runtime package ``claw_ta`` (``TA-claw-runtime/bin/claw_ta``); the
app never imports them, and none of them ships in the tarball.

This module stays standard-library only and does not import ``claw_ta``, so
the scenario generators run under a bare interpreter with only ``tools/`` on
the path.
"""
import os

TOOLS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO_DIR = os.path.dirname(TOOLS_DIR)
APP_DIR = os.path.join(REPO_DIR, "TA-claw-runtime")
DOCS_DIR = os.path.join(REPO_DIR, "docs")
SCENARIOS_DIR = os.path.join(REPO_DIR, "scenarios")
