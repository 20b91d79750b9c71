"""``claw-ta replay SCENARIO_DIR...``: print the alerts the detections raise, one JSON object per line.

Each alert has ``detection_id``, ``severity`` and its entity fields (plus
context: counts, first time, environment, risk); with several directories
each alert also names its ``scenario``. ``--risk`` adds ``claw_workload_risk``
incidents. Warnings (malformed events, unreadable SBOMs) go to stderr, and
per scenario one line with the events skipped and why (``not_sensor`` with
the writers seen, ``no_time``, ``malformed``).
"""
import json
import sys

from claw_ta_tools.detections import engine
from claw_ta_tools.detections.sampling import add_sampling_arguments, sampler_from_args


def add_arguments(parser):
    parser.add_argument("scenarios", nargs="+", metavar="SCENARIO_DIR",
                        help="scenario directories (see docs: scenario format)")
    parser.add_argument("--risk", action="store_true",
                        help="also print claw_workload_risk incidents (>= 2 detections on one entity in 24 h)")
    parser.add_argument("--stats", action="store_true",
                        help="print per-detection event/row counts to stderr")
    add_sampling_arguments(parser)


def replay_all(paths, args, out=sys.stdout):
    """Replay every directory; returns the exit status (2 when a scenario cannot be read)."""
    status = 0
    several = len(paths) > 1
    for path in paths:
        try:
            result = engine.replay(path, sampler=sampler_from_args(args))
        except engine.ScenarioError as error:
            engine.warn(str(error))
            status = 2
            continue
        for message in result.warnings:
            engine.warn("%s: %s" % (result.scenario.name, message))
        skipped = result.skipped_summary()
        if skipped:  # never silent: how many events were skipped, and why (docs/replay.md)
            engine.warn("%s: %s" % (result.scenario.name, skipped))
        records = list(result.alerts)
        if args.risk:
            records.extend(result.incidents())
        for record in records:
            if several:
                record = dict([("scenario", result.scenario.name)] + list(record.items()))
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        if args.stats:
            for detection_id, (selected, aggregated, results) in sorted(result.stage_counts.items()):
                engine.warn("%s: %s: %d events selected, %d rows after aggregation, %d results"
                            % (result.scenario.name, detection_id, selected, aggregated, results))
    return status


def run(args):
    return replay_all(args.scenarios, args)
