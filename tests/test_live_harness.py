"""The live-Splunk tests' harness, without a Splunk.

- With no Splunk configured, tests/live is collected and every test skips with
  a clear reason (no errors).
- Against a loopback stand-in for HEC and the search REST API, the harness
  sends each delivery shape to the right endpoint with the right metadata and
  reads search results back.
"""
import base64
import json
import os
import subprocess
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from tests import paths
from tests.live.splunk_live import (SKIP_REASON, LiveSplunk, event_time, live_config, sample_tag,
                                    unique_term)
from tests.samples import load_samples

SAMPLES = {s.name: s for s in load_samples()}


def test_live_tests_skip_cleanly_without_a_splunk():
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPLUNK_")}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "tests/live"],
        cwd=paths.REPO, env=env, capture_output=True, text=True, timeout=300)
    tail = proc.stdout[-2000:]
    assert proc.returncode == 0, tail + proc.stderr[-2000:]
    assert "error" not in tail.splitlines()[-1] and "failed" not in tail.splitlines()[-1], tail
    assert " skipped" in tail.splitlines()[-1] and " passed" not in tail.splitlines()[-1], tail
    assert SKIP_REASON in proc.stdout


def test_live_config_needs_host_password_and_token_and_has_defaults():
    assert live_config({}) is None
    assert live_config({"SPLUNK_HOST": "s", "SPLUNK_PASSWORD": "p"}) is None
    config = live_config({"SPLUNK_HOST": "s", "SPLUNK_PASSWORD": "p", "SPLUNK_HEC_TOKEN": "t"})
    assert (config["port"], config["hec_port"], config["username"], config["index"]) == (
        8089, 8088, "admin", "main")
    assert config["scheme"] == config["hec_scheme"] == "https" and config["verify"] is False


class FakeSplunk(BaseHTTPRequestHandler):
    requests = []
    results = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        FakeSplunk.requests.append((self.path, dict(self.headers), body.decode("utf-8")))
        if self.path.startswith("/services/search/jobs"):
            answer = json.dumps({"results": FakeSplunk.results})
        else:
            answer = json.dumps({"text": "Success", "code": 0})
        data = answer.encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_splunk():
    server = HTTPServer(("127.0.0.1", 0), FakeSplunk)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    FakeSplunk.requests = []
    port = server.server_address[1]
    env = {"SPLUNK_HOST": "127.0.0.1", "SPLUNK_PORT": str(port), "SPLUNK_HEC_PORT": str(port),
           "SPLUNK_PASSWORD": "pw", "SPLUNK_HEC_TOKEN": "tok", "SPLUNK_SCHEME": "http",
           "SPLUNK_HEC_SCHEME": "http", "SPLUNK_INDEX": "claw_test"}
    try:
        yield LiveSplunk(live_config(env))
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.mark.parametrize("name", ["raw:binary_attestation_allowed", "cri:oversized", "raw:non_json"])
def test_file_shapes_go_to_the_raw_endpoint_with_their_metadata(fake_splunk, name):
    sample = SAMPLES[name]
    fake_splunk.send(sample)
    path, headers, body = FakeSplunk.requests[-1]
    endpoint, _, query = path.partition("?")
    assert endpoint == "/services/collector/raw"
    params = dict(urllib.parse.parse_qsl(query))
    assert params == {"sourcetype": sample.sourcetype, "source": sample.source,
                      "host": sample.host, "index": "claw_test"}
    assert body == sample.raw + "\n"
    assert headers["Authorization"] == "Splunk tok" and headers["X-Splunk-Request-Channel"]
    search = fake_splunk.base_search(sample)
    assert 'source="%s"' % sample.source in search and '"%s"' % unique_term(sample) in search


@pytest.mark.parametrize("name", ["hec_merged:library_load_non_ascii", "hec_log:truncated_json",
                                  "fluentbit_systemd:agent_heartbeat", "journald:manifest_digest_mismatch"])
def test_records_go_to_the_event_endpoint_with_time_and_indexed_fields(fake_splunk, name):
    sample = SAMPLES[name]
    fake_splunk.send(sample)
    path, headers, body = FakeSplunk.requests[-1]
    assert path == "/services/collector/event"
    payload = json.loads(body)
    if sample.shape == "journald":
        assert payload["event"] == sample.raw
        assert payload["fields"]["_SYSTEMD_UNIT"] == "claw-runtime.service"
    else:
        assert payload["event"] == json.loads(sample.raw)
    assert (payload["sourcetype"], payload["source"], payload["host"], payload["index"]) == (
        sample.sourcetype, sample.source, sample.host, "claw_test")
    assert payload["fields"]["claw_sample"] == sample_tag(sample)
    assert payload["fields"]["claw_run"] == fake_splunk.run_id
    if sample.event_type:
        assert float(payload["time"]) == pytest.approx(event_time(sample), abs=1e-6)
    else:
        assert "time" not in payload
    assert "claw_sample::%s" % sample_tag(sample) in fake_splunk.base_search(sample)


def test_search_is_a_oneshot_with_basic_auth_and_returns_rows(fake_splunk):
    FakeSplunk.results = [{"event_type": "library_load", "tag": ["claw", "library_load"]}]
    rows = fake_splunk.search('search index="claw_test" | table *')
    assert rows == FakeSplunk.results
    path, headers, body = FakeSplunk.requests[-1]
    assert path == "/services/search/jobs"
    form = dict(urllib.parse.parse_qsl(body))
    assert form["exec_mode"] == "oneshot" and form["output_mode"] == "json"
    assert form["search"] == 'search index="claw_test" | table *'
    assert headers["Authorization"] == "Basic " + base64.b64encode(b"admin:pw").decode()


def test_sample_tags_and_terms_are_unique():
    tags = [sample_tag(s) for s in SAMPLES.values()]
    assert len(tags) == len(set(tags))
    assert all(t.replace("_", "").isalnum() for t in tags)
    for shape in ("raw", "cri"):
        terms = [unique_term(s) for s in SAMPLES.values() if s.shape == shape]
        assert len(terms) == len(set(terms)), shape
