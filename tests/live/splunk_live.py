"""Talking to a live Splunk for the live tests: settings, HEC sending, searches.

Settings come from the environment (see conftest.py).
"""
import base64
import json
import os
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

from claw_ta_tools.normalize import parse_time
from tests.samples import claw_event

REQUIRED = ("SPLUNK_HOST", "SPLUNK_PASSWORD", "SPLUNK_HEC_TOKEN")
SKIP_REASON = ("no Splunk configured: set SPLUNK_HOST, SPLUNK_PASSWORD and SPLUNK_HEC_TOKEN "
               "(docs/testing.md) to run the live tests")
# Shapes Splunk receives through the HEC event endpoint (one record = one event);
# the others are file lines, sent through the HEC raw endpoint so that props.conf
# line breaking, CRI stripping and merging, and timestamp extraction run on them.
EVENT_ENDPOINT_SHAPES = ("hec_merged", "hec_log", "fluentbit_systemd", "journald")


def live_config(environ=None):
    """The live Splunk settings, or None when the required variables are not all set."""
    env = os.environ if environ is None else environ
    if not all(env.get(name) for name in REQUIRED):
        return None
    return {
        "host": env["SPLUNK_HOST"], "port": int(env.get("SPLUNK_PORT") or 8089),
        "username": env.get("SPLUNK_USERNAME") or "admin", "password": env["SPLUNK_PASSWORD"],
        "hec_token": env["SPLUNK_HEC_TOKEN"], "hec_port": int(env.get("SPLUNK_HEC_PORT") or 8088),
        "index": env.get("SPLUNK_INDEX") or "main",
        "scheme": env.get("SPLUNK_SCHEME") or "https",
        "hec_scheme": env.get("SPLUNK_HEC_SCHEME") or "https",
        "verify": (env.get("SPLUNK_VERIFY_TLS") or "0") not in ("0", "false", "no", ""),
        "timeout": float(env.get("SPLUNK_LIVE_TIMEOUT") or 180),
    }


def sample_tag(sample):
    """An indexed-field value naming one sample (letters, digits and _ only)."""
    return "%s__%s" % (sample.shape, sample.case)


class LiveSplunk(object):
    """HEC sending and oneshot searches over plain HTTPS."""

    def __init__(self, config):
        self.config = config
        self.context = ssl.create_default_context()
        if not config["verify"]:
            self.context.check_hostname = False
            self.context.verify_mode = ssl.CERT_NONE
        self.run_id = uuid.uuid4().hex
        self.started = int(time.time()) - 5

    def _open(self, url, data, headers):
        request = urllib.request.Request(url, data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, context=self.context, timeout=60) as response:
                return response.read().decode("utf-8")
        except urllib.error.HTTPError as error:
            raise AssertionError("%s answered %s: %s" % (url.split("?")[0], error.code,
                                                         error.read().decode("utf-8", "replace")))

    def _hec(self, path, body, params=None):
        c = self.config
        url = "%s://%s:%d%s" % (c["hec_scheme"], c["host"], c["hec_port"], path)
        if params:
            url += "?" + urllib.parse.urlencode(params)
        headers = {"Authorization": "Splunk " + c["hec_token"],
                   "X-Splunk-Request-Channel": str(uuid.uuid4())}
        return self._open(url, body.encode("utf-8"), headers)

    def send(self, sample):
        c = self.config
        if sample.shape in EVENT_ENDPOINT_SHAPES:
            fields = dict(sample.indexed_fields, claw_sample=sample_tag(sample), claw_run=self.run_id)
            payload = {"event": sample.raw if sample.shape == "journald" else json.loads(sample.raw),
                       "sourcetype": sample.sourcetype, "source": sample.source,
                       "host": sample.host, "index": c["index"], "fields": fields}
            when = event_time(sample)
            if when is not None:  # Fluent Bit and the journal send the record's own time
                payload["time"] = "%.6f" % when
            return self._hec("/services/collector/event", json.dumps(payload))
        params = {"sourcetype": sample.sourcetype, "source": sample.source,
                  "host": sample.host, "index": c["index"]}
        return self._hec("/services/collector/raw", sample.raw + "\n", params)

    def search(self, spl):
        c = self.config
        url = "%s://%s:%d/services/search/jobs" % (c["scheme"], c["host"], c["port"])
        auth = base64.b64encode(("%s:%s" % (c["username"], c["password"])).encode()).decode()
        body = urllib.parse.urlencode({"search": spl, "exec_mode": "oneshot", "output_mode": "json",
                                       "count": 0, "earliest_time": "0"}).encode()
        answer = self._open(url, body, {"Authorization": "Basic " + auth})
        return json.loads(answer).get("results", []) if answer.strip() else []

    def base_search(self, sample):
        """The search that finds exactly this sample's event of this run."""
        spl = 'search index="%s" sourcetype="claw:runtime" source="%s" _index_earliest=%d' % (
            self.config["index"], sample.source, self.started)
        if sample.shape in EVENT_ENDPOINT_SHAPES:
            return spl + " claw_sample::%s claw_run::%s" % (sample_tag(sample), self.run_id)
        return spl + ' "%s"' % unique_term(sample)


def event_time(sample):
    """Epoch seconds of the sample's claw timestamp, None when its line is not a claw event."""
    event = claw_event(sample)
    if not event or "timestamp" not in event:
        return None
    return parse_time(event["timestamp"])


def unique_term(sample):
    """A term only this sample's raw line holds within its source (its event_id, else text)."""
    marker = '"event_id":"'
    start = sample.raw.find(marker)
    if start >= 0:
        start += len(marker)
        return sample.raw[start:sample.raw.index('"', start)]
    return "ring buffer overrun"
