"""Which splunk-sdk (splunklib) the running interpreter gets: one pinned copy per Splunk Python.

Splunk 9.3-10.0 run scripts on Python 3.9, 10.1 and later on 3.13. splunk-sdk
3.0 requires Python 3.13 (its package metadata says so), and 2.1.1 is the
last release for 3.9, so the app carries both, installed by ``claw-ta
package`` from ``app-requirements.txt`` (environment markers choose the copy):

    bin/sdk/py39/splunklib    splunk-sdk for Python 3.9 up to 3.12
    bin/sdk/py313/splunklib   splunk-sdk for Python 3.13 and later

A script that imports splunklib calls :func:`use_splunklib` first (after
putting ``bin/`` on ``sys.path``). Nothing else here: no third-party import.
"""
import os
import sys

from claw_ta import BIN_DIR

SDK_DIR = os.path.join(BIN_DIR, "sdk")
# (folder under bin/sdk, lowest Python it serves), oldest first; claw-ta package installs one per folder.
FOLDERS = (("py39", (3, 9)), ("py313", (3, 13)))


def folder_for(version_info=None):
    """The folder name (``py39``, ``py313``) of the copy for ``version_info`` (default: this interpreter)."""
    version = tuple((version_info or sys.version_info)[:2])
    chosen = FOLDERS[0][0]
    for name, lowest in FOLDERS:
        if version >= lowest:
            chosen = name
    return chosen


def use_splunklib(version_info=None):
    """Put this interpreter's splunklib first on ``sys.path``; returns its folder.

    A missing copy is an ImportError naming the folder, never a fall back to
    another version.
    """
    path = os.path.join(SDK_DIR, folder_for(version_info))
    if not os.path.isdir(os.path.join(path, "splunklib")):
        raise ImportError("splunklib for Python %d.%d is not installed in %s (build the app with "
                          "`claw-ta package`)" % (tuple((version_info or sys.version_info)[:2]) + (path,)))
    if path not in sys.path:
        sys.path.insert(0, path)
    return path
