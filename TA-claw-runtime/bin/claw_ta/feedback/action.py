"""One run of the ``claw_policy_feedback`` alert action.

splunkd runs ``claw_policy_feedback.py --execute`` with a JSON payload on
stdin (``configuration``, ``results_file``, ``session_key``, ``server_uri``,
``search_name``, ``sid``, ``app``, ...). ``main`` reads it, builds one proposal
per idempotency key, delivers the outbox and the new proposals (review: KV
store; push: the policy engine) and returns the exit code.
"""
import csv
import datetime
import json
import logging
import logging.handlers
import os
import sys
import time

from claw_ta import app_version
from claw_ta.feedback import (ACTION_NAME, EXIT_CONFIG, EXIT_OK, EXIT_UNDELIVERED, LOG_FILE)
from claw_ta.feedback import proposal as proposals_mod
from claw_ta.feedback.splunkd import NAME_RE, KVStore, Splunkd
from claw_ta.feedback.store import LockTimeout, Store, destination_id, state_root
from claw_ta.feedback.transport import (DeliveryError, RetryPolicy, check_url, request_with_retries,
                                        tls_context)

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
LOG_VALUE_MAX = 200

log = logging.getLogger(ACTION_NAME)


class ConfigError(ValueError):
    """A bad parameter; the message starts with the parameter's name."""


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


def _merge_pending(store, new):
    """Outbox entries then new proposals, one per key (the newest evidence wins)."""
    order, by_key, previous = [], {}, {}
    for entry in store.pending():
        key = entry["proposal"]["idempotency_key"]
        order.append(key)
        by_key[key] = entry["proposal"]
        previous[key] = entry
    for item in new:
        key = item["idempotency_key"]
        if key not in by_key:
            order.append(key)
        by_key[key] = item
    return [by_key[k] for k in order], previous


def _keep_all(store, items, error, previous):
    for item in items:
        key = item["idempotency_key"]
        if store.keep(item, error, previous.get(key)):
            emit(logging.WARNING, "kept", key=key, reason=error)
        else:
            emit(logging.ERROR, "dead_lettered", key=key, reason=error, folder=store.dead_dir)


def _splunkd(cfg, payload, policy):
    def on_retry(attempt, wait, err):
        emit(logging.WARNING, "retry", target="splunkd", attempt=attempt, wait_seconds=round(wait, 2), error=str(err))
    return Splunkd(payload["server_uri"], payload["session_key"], policy, cfg["timeout"], on_retry=on_retry)


def deliver_review(cfg, payload, store, items, previous, policy):
    splunkd = _splunkd(cfg, payload, policy)
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    try:
        saved = KVStore(splunkd).upsert(items, now)
    except DeliveryError as err:
        _keep_all(store, items, "kvstore: %s" % err, previous)
        return 0, len(items)
    for key in saved:
        store.drop(key)
        emit(logging.INFO, "queued_for_review", key=key)
    return len(saved), 0


def deliver_push(cfg, payload, store, items, previous, policy):
    splunkd = _splunkd(cfg, payload, policy)
    try:
        token = splunkd.get_token(cfg["credential_name"])
    except (LookupError, DeliveryError) as err:
        _keep_all(store, items, "credential: %s" % err, previous)
        return 0, len(items)
    context = tls_context(cfg["ca_bundle"] or None)
    if cfg["policy_engine_url"].startswith("http://"):
        emit(logging.WARNING, "insecure_http", reason="insecure_http = 1: token and proposals sent unencrypted")
    applied = store.applied_keys()
    delivered, kept, broken = 0, 0, None
    for item in items:
        key = item["idempotency_key"]
        if key in applied:
            store.drop(key)
            emit(logging.INFO, "already_applied", key=key)
            continue
        if broken:
            _keep_all(store, [item], broken, previous)
            kept += 1
            continue
        headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json; charset=utf-8",
                   "Idempotency-Key": key, "User-Agent": "TA-claw-runtime/%s" % app_version()}

        def on_retry(attempt, wait, err, key=key):
            emit(logging.WARNING, "retry", key=key, attempt=attempt, wait_seconds=round(wait, 2), error=str(err))

        try:
            resp = request_with_retries("POST", cfg["policy_engine_url"], policy, on_retry=on_retry,
                                        body=proposals_mod.dumps(item), headers=headers,
                                        timeout=cfg["timeout"], context=context, use_env_proxies=True)
            status = resp.status
        except DeliveryError as err:
            if err.status == 409:  # the engine already holds this key
                status = 409
            else:
                _keep_all(store, [item], str(err), previous)
                kept += 1
                if err.retryable or err.status is None:
                    broken = "not attempted after: %s" % err  # engine down or TLS refused
                continue
        store.mark_applied(key)
        applied.add(key)
        store.drop(key)
        delivered += 1
        emit(logging.INFO, "applied" if status != 409 else "already_applied_by_engine", key=key, status=status,
             detection_id=item["detection"]["id"], change=item["change"]["action"])
    return delivered, kept


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
    store = Store(state_root(splunk_home or "."), destination_id(mode))
    if config_error:
        _keep_all(store, new, config_error, {})
        return EXIT_CONFIG
    policy = RetryPolicy(max_retries=cfg["max_retries"], backoff=cfg["backoff"],
                         max_retry_after=cfg["max_retry_after"], deadline=time.monotonic() + cfg["deadline"])
    try:
        store.acquire(wait=min(60.0, cfg["deadline"]))
    except LockTimeout as err:
        _keep_all(store, new, str(err), {})
        return EXIT_UNDELIVERED
    try:
        items, previous = _merge_pending(store, new)
        if not items:
            return exit_code
        deliver = deliver_review if mode == "review" else deliver_push
        delivered, kept = deliver(cfg, payload, store, items, previous, policy)
    finally:
        store.release()
    emit(logging.INFO if not kept else logging.ERROR, "summary", mode=mode, delivered=delivered, kept=kept,
         outbox_before=len(previous), sid=ctx["sid"])
    if kept:
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
