"""pytest fixtures shared by the alert action's tests: PKI, SPLUNK_HOME, splunkd stand-in, servers to stop."""
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


@pytest.fixture
def servers():
    """Loopback servers a test starts (append them): stopped at the end of the test."""
    started = []
    yield started
    for server in started:
        server.stop()
