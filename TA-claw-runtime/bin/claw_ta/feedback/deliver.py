"""Delivery of one run's proposals: the outbox first, then the new ones.

Every function here takes the destination's ``Store`` (see ``store``) and
never removes an outbox entry before its proposal is delivered; when the disk
is full (``StoreFull``) it says so in the log and keeps what is queued.
"""
import datetime
import logging

from claw_ta import app_version
from claw_ta.feedback import proposal as proposals_mod
from claw_ta.feedback.log import emit
from claw_ta.feedback.shared import SharedDelivery
from claw_ta.feedback.splunkd import KVStore, Splunkd
from claw_ta.feedback.store import StoreFull
from claw_ta.feedback.transport import DeliveryError, request_with_retries, tls_context


def write_ahead(store, proposals):
    """Queue each proposal before delivery; returns the ones the disk could not take."""
    unqueued = []
    for item in proposals:
        try:
            store.enqueue(item)
        except StoreFull as err:
            unqueued.append(item)
            emit(logging.ERROR, "disk_full", key=item["idempotency_key"], error=str(err),
                 reason="not queued; delivered from memory only in this run")
    return unqueued


def merge_pending(store, unqueued):
    """Outbox entries (oldest first) then the proposals the disk could not take, one per key."""
    order, by_key, previous = [], {}, {}
    for entry in store.pending():
        key = entry["proposal"]["idempotency_key"]
        order.append(key)
        by_key[key] = entry["proposal"]
        previous[key] = entry
    for name, reason in store.rejected:
        emit(logging.ERROR, "dead_lettered", file=name, reason="malformed outbox entry: " + reason,
             folder=store.dead_dir)
    for item in unqueued:
        key = item["idempotency_key"]
        if key not in by_key:
            order.append(key)
        by_key[key] = item
    return [by_key[k] for k in order], previous


def keep_all(store, items, error, previous):
    for item in items:
        key = item["idempotency_key"]
        try:
            kept = store.keep(item, error, previous.get(key))
        except StoreFull as err:
            emit(logging.ERROR, "disk_full", key=key, error=str(err),
                 reason="attempt not recorded" if key in previous else "NOT KEPT: " + error)
            continue
        if kept:
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
        keep_all(store, items, "kvstore: %s" % err, previous)
        return 0, len(items)
    for key in saved:
        store.drop(key)
        emit(logging.INFO, "queued_for_review", key=key)
    return len(saved), 0


def _post(cfg, policy, context, token, item):
    key = item["idempotency_key"]
    headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json; charset=utf-8",
               "Idempotency-Key": key, "User-Agent": "TA-claw-runtime/%s" % app_version()}

    def on_retry(attempt, wait, err):
        emit(logging.WARNING, "retry", key=key, attempt=attempt, wait_seconds=round(wait, 2), error=str(err))

    try:
        return request_with_retries("POST", cfg["policy_engine_url"], policy, on_retry=on_retry,
                                    body=proposals_mod.dumps(item), headers=headers, timeout=cfg["timeout"],
                                    context=context, use_env_proxies=True).status
    except DeliveryError as err:
        if err.status == 409:  # the engine already holds this key
            return 409
        raise


def _applied(store, key):
    """Record a delivered key, then drop its outbox entry (kept if the record failed)."""
    try:
        store.mark_applied(key)
    except StoreFull as err:
        emit(logging.ERROR, "disk_full", key=key, error=str(err),
             reason="delivered but not recorded: kept in the outbox, sent again with the same Idempotency-Key")
        return
    store.drop(key)


def with_shared_queue(items, shared):
    """This run's items, then the proposals other cluster members queued for this destination."""
    have = {item["idempotency_key"] for item in items}
    extra = [p for p in shared.queued() if p["idempotency_key"] not in have]
    for proposal in extra:
        emit(logging.INFO, "shared_queued", key=proposal["idempotency_key"], reason="queued by a cluster member")
    return list(items) + extra


def deliver_push(cfg, payload, store, items, previous, policy):
    splunkd = _splunkd(cfg, payload, policy)
    shared = SharedDelivery(splunkd, store.destination)
    items = with_shared_queue(items, shared)
    try:
        token = splunkd.get_token(cfg["credential_name"])
    except (LookupError, DeliveryError) as err:
        keep_all(store, items, "credential: %s" % err, previous)
        shared.queue(items, "credential: %s" % err)
        return 0, len(items)
    context = tls_context(cfg["ca_bundle"] or None)
    if cfg["policy_engine_url"].startswith("http://"):
        emit(logging.WARNING, "insecure_http", reason="insecure_http = 1: token and proposals sent unencrypted")
    applied = store.applied_keys() | shared.applied([item["idempotency_key"] for item in items])
    delivered, kept, broken = 0, 0, None
    for item in items:
        key = item["idempotency_key"]
        if key in applied:
            store.drop(key)
            emit(logging.INFO, "already_applied", key=key)
            continue
        if broken:
            keep_all(store, [item], broken, previous)
            shared.queue([item], broken)
            kept += 1
            continue
        if not shared.claim(key, cfg["deadline"]):
            emit(logging.INFO, "sending_elsewhere", key=key, reason="another cluster member is sending it now; "
                 "kept in the outbox until it is applied")
            continue
        try:
            status = _post(cfg, policy, context, token, item)
        except DeliveryError as err:
            keep_all(store, [item], str(err), previous)
            shared.queue([item], str(err))
            shared.release(key)
            kept += 1
            if err.retryable or err.status is None:
                broken = "not attempted after: %s" % err  # engine down or TLS refused
            continue
        _applied(store, key)
        shared.mark_applied(item)
        shared.release(key)
        applied.add(key)
        delivered += 1
        emit(logging.INFO, "applied" if status != 409 else "already_applied_by_engine", key=key, status=status,
             detection_id=item["detection"]["id"], change=item["change"]["action"])
    return delivered, kept
