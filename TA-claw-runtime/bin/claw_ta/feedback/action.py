"""One run of the ``claw_policy_feedback`` alert action.

splunkd runs ``claw_policy_feedback.py --execute`` with a JSON payload on
stdin (``configuration``, ``results_file``, ``session_key``, ``server_uri``,
``search_name``, ``sid``, ``app``, ...). ``main`` reads it, builds one proposal
per idempotency key, delivers the outbox and the new proposals (review: KV
store; push: the policy engine) and returns the exit code.
"""
import csv
import json
import logging
import os
import sys
import time

from claw_ta import app_version
from claw_ta.feedback import ACTION_NAME, EXIT_CONFIG, EXIT_OK, EXIT_UNDELIVERED
from claw_ta.feedback import deliver
from claw_ta.feedback import proposal as proposals_mod
from claw_ta.feedback.log import emit, setup_logging
from claw_ta.feedback.splunkd import NAME_RE
from claw_ta.feedback.store import LockTimeout, Store, destination_id, normalise_url, state_root
from claw_ta.feedback.transport import RetryPolicy, check_url

# name -> default; alert_actions.conf ships the same defaults (a test checks it).
DEFAULTS = {
    "mode": "review",
    "detection_id": "",
    "change": "auto",
    "min_slsa_level": "2",
    "policy_engine_url": "",
    "ca_bundle": "",
    "insecure_http": "0",
    "credential_name": "policy_engine",
    "timeout": "10",
    "max_retries": "3",
    "backoff": "2",
    "max_retry_after": "60",
    "deadline": "240",
}
TRUE = ("1", "true", "yes", "t", "y", "on")
FALSE = ("0", "false", "no", "f", "n", "off", "")
class ConfigError(ValueError):
    """A bad parameter; the message starts with the parameter's name."""


def _bool(config, name):
    value = str(config.get(name, DEFAULTS[name])).strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ConfigError("%s: expected 0 or 1 (got %r)" % (name, value))


def _number(config, name, low, high, kind=float):
    raw = str(config.get(name, DEFAULTS[name])).strip() or DEFAULTS[name]
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigError("%s: expected a number between %s and %s (got %r)" % (name, low, high, raw))
    if not low <= value <= high:
        raise ConfigError("%s: expected a number between %s and %s (got %r)" % (name, low, high, raw))
    return value


def parse_config(config, splunk_home):
    """The action's parameters, checked; raises ConfigError naming the parameter."""
    mode = str(config.get("mode") or DEFAULTS["mode"]).strip().lower()
    if mode not in ("review", "push"):
        raise ConfigError("mode: expected review or push (got %r)" % mode)
    change = str(config.get("change") or "auto").strip().lower()
    if change != "auto" and change not in proposals_mod.CHANGE_ACTIONS:
        raise ConfigError("change: expected auto or one of %s (got %r)"
                          % (", ".join(proposals_mod.CHANGE_ACTIONS), change))
    cfg = {
        "mode": mode,
        "change": change,
        "detection_id": str(config.get("detection_id") or "").strip(),
        "min_slsa_level": _number(config, "min_slsa_level", 0, 4, int),
        "timeout": _number(config, "timeout", 0.1, 300),
        "max_retries": _number(config, "max_retries", 0, 10, int),
        "backoff": _number(config, "backoff", 0, 300),
        "max_retry_after": _number(config, "max_retry_after", 0, 3600),
        "deadline": _number(config, "deadline", 1, 3600),
        "insecure_http": _bool(config, "insecure_http"),
        "credential_name": str(config.get("credential_name") or DEFAULTS["credential_name"]).strip(),
        "policy_engine_url": str(config.get("policy_engine_url") or "").strip(),
        "ca_bundle": str(config.get("ca_bundle") or "").strip(),
    }
    if not NAME_RE.match(cfg["credential_name"]):
        raise ConfigError("credential_name: expected letters, digits, '_', '.', '-' (got %r)" % cfg["credential_name"])
    if cfg["ca_bundle"]:
        path = cfg["ca_bundle"]
        if not os.path.isabs(path):
            path = os.path.join(splunk_home or "", path)
        if not os.path.isfile(path):
            raise ConfigError("ca_bundle: no such file %r" % cfg["ca_bundle"])
        cfg["ca_bundle"] = path
    if mode == "push":
        if not cfg["policy_engine_url"]:
            raise ConfigError("policy_engine_url: required in push mode")
        try:
            check_url(cfg["policy_engine_url"], cfg["insecure_http"], "policy_engine_url")
        except ValueError as err:
            raise ConfigError(str(err))
    return cfg


def _store(mode, cfg, splunk_home):
    """The destination's store: ``review``, or the configured engine URL's own folder."""
    url = str((cfg or {}).get("policy_engine_url") or "")
    if mode == "push" and not url:
        return Store(state_root(splunk_home or "."), "push-unconfigured")
    return Store(state_root(splunk_home or "."), destination_id(mode, url), normalise_url(url) if url else None)


def _legacy_outbox(splunk_home):
    """Proposals queued by 0.1.0 in the shared push/outbox: reported, never sent to a guessed engine."""
    folder = os.path.join(state_root(splunk_home or "."), "push", "outbox")
    try:
        count = len([n for n in os.listdir(folder) if n.endswith(".json")])
    except OSError:
        return
    if count:
        emit(logging.WARNING, "legacy_outbox", folder=folder, proposals=count,
             reason="queued before outboxes were per engine URL: move them into push-<hash>/outbox to deliver")


def run(payload, splunk_home):
    """Deliver this trigger's proposals and the outbox; returns the exit code."""
    config = payload.get("configuration") or {}
    if not isinstance(config, dict):
        config = {}
    ctx = {"sid": payload.get("sid", ""), "search_name": payload.get("search_name", ""),
           "app": payload.get("app", ""), "results_link": payload.get("results_link", ""),
           "server_host": payload.get("server_host", ""), "version": app_version()}
    mode = str(config.get("mode") or DEFAULTS["mode"]).strip().lower()
    cfg, config_error = None, None
    try:
        cfg = parse_config(config, splunk_home)
    except ConfigError as err:
        config_error = str(err)
        emit(logging.ERROR, "bad_configuration", error=config_error, search_name=ctx["search_name"])
    for name in ("session_key", "server_uri"):
        if not payload.get(name):
            config_error = config_error or "payload: %s is missing" % name
    exit_code = EXIT_OK
    new = []
    results_file = payload.get("results_file") or ""
    try:
        rows = list(proposals_mod.read_results(results_file))
        new, problems = proposals_mod.build_proposals(
            rows, ctx, change=(cfg or {}).get("change", "auto"),
            detection_id=(cfg or {}).get("detection_id", str(config.get("detection_id") or "")),
            min_slsa_level=(cfg or {}).get("min_slsa_level", 2))
        for number, message in problems:
            emit(logging.WARNING, "result_skipped", row=number, reason=message)
        emit(logging.INFO, "results_read", sid=ctx["sid"], search_name=ctx["search_name"], rows=len(rows),
             proposals=len(new))
    except (OSError, EOFError, ValueError, csv.Error) as err:  # missing or corrupt results file
        emit(logging.ERROR, "results_unreadable", file=results_file, error=str(err))
        exit_code = EXIT_CONFIG
    if mode not in ("review", "push"):
        emit(logging.ERROR, "not_delivered", proposals=len(new), reason=config_error)
        return EXIT_CONFIG
    store = _store(mode, cfg or config, splunk_home)
    if mode == "push":
        _legacy_outbox(splunk_home)
    unqueued = deliver.write_ahead(store, new)  # before anything can fail or be killed
    if config_error:
        deliver.keep_all(store, new, config_error, {})
        return EXIT_CONFIG
    policy = RetryPolicy(max_retries=cfg["max_retries"], backoff=cfg["backoff"],
                         max_retry_after=cfg["max_retry_after"], deadline=time.monotonic() + cfg["deadline"])
    try:
        store.acquire(wait=min(60.0, cfg["deadline"]))
    except LockTimeout as err:
        emit(logging.WARNING, "locked", reason=str(err), proposals=len(new))
        for item in unqueued:
            emit(logging.ERROR, "not_kept", key=item["idempotency_key"], reason="disk full and " + str(err))
        return EXIT_UNDELIVERED  # queued: the run holding the lock or the next one delivers them
    try:
        items, previous = deliver.merge_pending(store, unqueued)
        if not items:
            return exit_code
        send = deliver.deliver_review if mode == "review" else deliver.deliver_push
        delivered, kept = send(cfg, payload, store, items, previous, policy)
    finally:
        store.release()
    emit(logging.INFO if not kept else logging.ERROR, "summary", mode=mode, delivered=delivered, kept=kept,
         outbox_before=len(previous), sid=ctx["sid"])
    if kept or unqueued:
        return EXIT_UNDELIVERED
    return exit_code


def main(argv=None, stdin=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] != "--execute":
        sys.stderr.write("FATAL %s: run by splunkd as an alert action: %s --execute < payload.json\n"
                         % (ACTION_NAME, ACTION_NAME + ".py"))
        return EXIT_CONFIG
    splunk_home = os.environ.get("SPLUNK_HOME", "")
    setup_logging(splunk_home)
    try:
        payload = json.loads((stdin or sys.stdin.buffer).read().decode("utf-8"))
        if not isinstance(payload, dict):
            raise ValueError("not a JSON object")
    except (ValueError, UnicodeDecodeError) as err:
        emit(logging.ERROR, "bad_payload", error=str(err))
        return EXIT_CONFIG
    try:
        return run(payload, splunk_home)
    except Exception as err:  # last resort: log without the payload (it holds the session key)
        emit(logging.ERROR, "crashed", error="%s: %s" % (type(err).__name__, err))
        return EXIT_CONFIG
