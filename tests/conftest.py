"""Shared fixtures: the Splunk Python interpreters, the app, ../shared."""
import os

import pytest

from tests import paths  # also puts claw_ta and claw_ta_tools on sys.path

SPLUNK_PYTHONS = paths.splunk_pythons()


@pytest.fixture(params=["3.9", "3.13"])
def splunk_python(request):
    """Each interpreter Splunk runs custom commands with (9.3-10.0: 3.9; 10.1+: 3.13)."""
    path = SPLUNK_PYTHONS.get(request.param)
    if not path:
        pytest.skip("Python %s is not installed (pyenv install %s, or set CLAW_PY%s)"
                    % (request.param, request.param, request.param.replace(".", "")))
    return path


@pytest.fixture(scope="session")
def built_app():
    """The app folder as it ships (built once per test run into a temporary folder)."""
    return paths.built_app()


@pytest.fixture
def shared_dir():
    """../shared (input contracts, real SBOMs); tests that need it skip where it is absent."""
    if not os.path.isdir(paths.SHARED):
        pytest.skip("../shared is not beside this clone (set CLAW_SHARED_DIR to its path)")
    return paths.SHARED
