"""pytest fixtures shared by the alert action's tests: PKI, SPLUNK_HOME, splunkd stand-in."""
import pytest

from tests.support import feedback_servers as fs


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return fs.make_pki(str(tmp_path_factory.mktemp("pki")))


@pytest.fixture
def home(tmp_path):
    return str(tmp_path)


@pytest.fixture
def splunkd(pki):
    server = fs.FakeSplunkd(pki["cert"], pki["key"], {("claw_policy_feedback", "policy_engine"): fs.TOKEN})
    yield server
    server.stop()
