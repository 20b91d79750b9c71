"""The action's log: one ``event=<name> field="value" ...`` line per event.

Written to ``$SPLUNK_HOME/var/log/splunk/claw_policy_feedback.log`` (rotated at
10 MB, 5 files; sourcetype ``claw:policy_feedback:log``); warnings and errors
also go to stderr, which splunkd copies into splunkd.log. Values are
JSON-quoted (a newline in a result cannot forge a log line) and cut at 200
characters.
"""
import datetime
import json
import logging
import logging.handlers
import os
import sys

from claw_ta.feedback import ACTION_NAME, LOG_FILE

LOG_VALUE_MAX = 200

log = logging.getLogger(ACTION_NAME)


class _Formatter(logging.Formatter):
    def formatTime(self, record, datefmt=None):
        stamp = datetime.datetime.fromtimestamp(record.created, tz=datetime.timezone.utc)
        return stamp.strftime("%Y-%m-%d %H:%M:%S") + ",%03d +0000" % record.msecs


def setup_logging(splunk_home):
    log.setLevel(logging.INFO)
    log.propagate = False
    for handler in list(log.handlers):
        log.removeHandler(handler)
    fmt = _Formatter("%(asctime)s %(levelname)s pid=%(process)d %(message)s")
    if splunk_home:
        folder = os.path.join(splunk_home, "var", "log", "splunk")
        try:
            os.makedirs(folder, exist_ok=True)
            handler = logging.handlers.RotatingFileHandler(
                os.path.join(folder, LOG_FILE), maxBytes=10 * 1024 * 1024, backupCount=5, encoding="utf-8")
            handler.setFormatter(fmt)
            log.addHandler(handler)
        except OSError as err:
            sys.stderr.write("WARN %s: cannot open its log file: %s\n" % (ACTION_NAME, err))
    errors = logging.StreamHandler(sys.stderr)  # splunkd copies stderr into splunkd.log
    errors.setLevel(logging.WARNING)
    errors.setFormatter(logging.Formatter("%(levelname)s " + ACTION_NAME + ": %(message)s"))
    log.addHandler(errors)


def _quote(value):
    """One log value: JSON-quoted (newlines, quotes escaped; ASCII only), long ones cut."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    text = value if isinstance(value, str) else str(value)
    if len(text) > LOG_VALUE_MAX:
        text = text[:LOG_VALUE_MAX] + "...(%d chars)" % len(text)
    return json.dumps(text, ensure_ascii=True)


def emit(level, event, **fields):
    parts = ["event=%s" % event]
    parts.extend("%s=%s" % (name, _quote(value)) for name, value in fields.items() if value is not None)
    log.log(level, " ".join(parts))
