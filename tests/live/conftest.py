"""A real Splunk for the live tests, configured from the environment.

    SPLUNK_HOST         host name of a Splunk with TA-claw-runtime installed (required)
    SPLUNK_PORT         management port (8089)
    SPLUNK_USERNAME     (admin)
    SPLUNK_PASSWORD     (required)
    SPLUNK_HEC_TOKEN    an enabled HEC token allowed to write SPLUNK_INDEX (required)
    SPLUNK_HEC_PORT     (8088)
    SPLUNK_INDEX        index the samples are sent to and searched in (main)
    SPLUNK_SCHEME, SPLUNK_HEC_SCHEME   https or http (https)
    SPLUNK_VERIFY_TLS   1 to verify certificates (default 0: the image's are self-signed)
    SPLUNK_LIVE_TIMEOUT seconds to wait for the samples to be searchable (180)

Without SPLUNK_HOST every live test is skipped, saying so. Only the standard
library is used (urllib), so nothing beyond the test requirements is needed.
"""
import time

import pytest

from tests.live.splunk_live import SKIP_REASON, LiveSplunk, live_config
from tests.samples import load_samples


@pytest.fixture(scope="session")
def live_splunk():
    config = live_config()
    if config is None:
        pytest.skip(SKIP_REASON)
    return LiveSplunk(config)


@pytest.fixture(scope="session")
def ingested(live_splunk):
    """Sends every sample once, then waits until all are searchable."""
    samples = load_samples()
    for sample in samples:
        live_splunk.send(sample)
    spl = 'search index="%s" sourcetype="claw:runtime" _index_earliest=%d | stats count' % (
        live_splunk.config["index"], live_splunk.started)
    deadline = time.time() + live_splunk.config["timeout"]
    count = 0
    while time.time() < deadline:
        rows = live_splunk.search(spl)
        count = int(rows[0]["count"]) if rows else 0
        if count >= len(samples):
            break
        time.sleep(5)
    return {"samples": samples, "count": count}
