"""Which fields an SPL pipeline filters on, and which it creates on the way.

Used by the content integrity tests to check that every field a shipped search
filters on exists: produced by the app (props.conf, the log format, the
commands' declared outputs), by CIM / Splunk, or earlier in the same search.
"""
import re

from claw_ta_tools.emulators.spl_lint import AGGREGATING, KEYWORDS, comparisons, split_args, unquote

def where_fields(expression):
    """Field names an eval/where expression reads (not functions, strings, keywords)."""
    masked = re.sub(r'"(?:\\.|[^"\\])*"', '""', expression)
    fields = set(re.findall(r"'([^']+)'", masked))
    masked = re.sub(r"'[^']*'", " ", masked)
    for match in re.finditer(r"(?<![\w.$])(%s)(\s*\()?" % r"[A-Za-z_][\w.]*", masked):
        name = match.group(1)
        if match.group(2) or name.lower() in KEYWORDS:
            continue
        fields.add(name)
    return fields


def _eval_assignments(args):
    names = set()
    for part in split_args(args, sep=","):
        match = re.match(r"""\s*("[^"]+"|'[^']+'|[A-Za-z_][\w.:{}]*)\s*=(?!=)""", part)
        if match:
            names.add(unquote(match.group(1)))
    return names


def produced_fields(seg, lookup_columns, command_outputs):
    """(fields ``seg`` creates, open) where open means "any field may appear now"."""
    name, args = seg.name, seg.args
    made = set(m.group(2) for m in re.finditer(r"""\bas\s+("?)([\w.:{}]+)\1""", args, re.I))
    if name == "eval":
        made |= _eval_assignments(args)
    elif name == "rex":
        made |= set(re.findall(r"\(\?P?<([A-Za-z_]\w*)>", args))
    elif name in ("lookup", "inputlookup"):
        tokens = [t for t in split_args(args) if "=" not in t]
        lookup = unquote(tokens[0]) if tokens else ""
        out_match = re.search(r"\bOUTPUT(?:NEW)?\b(.*)$", args, re.S)
        if out_match and name == "lookup":
            made |= {unquote(t.strip(",")) for t in split_args(out_match.group(1).replace(",", " "))
                     if t.lower() != "as"}
        elif lookup_columns.get(lookup):
            made |= set(lookup_columns[lookup])
        else:
            return made, True  # columns unknown (no file yet): anything may appear
    elif name in command_outputs:
        made |= set(command_outputs[name])
    elif name == "addinfo":
        made |= {"info_min_time", "info_max_time", "info_search_time", "info_sid"}
    elif name == "makeresults":
        made |= {"_time"}
    elif name in AGGREGATING:
        made |= {"count", "percent"}
    elif name == "transaction":
        made |= {"duration", "eventcount", "closed_txn", "field_match_sum"}
    elif name == "fillnull":
        made |= {unquote(t) for t in split_args(args) if "=" not in t}
    elif name in ("untable", "strcat"):
        made |= {unquote(t) for t in split_args(args)[-2:]}
    elif name == "spath":
        named = re.findall(r"\b(?:output|path)\s*=\s*\"?([\w.{}]+)", args)
        if not named:
            return made, True
        made |= set(named)
    elif name in ("extract", "kv", "xmlkv", "fromjson", "foreach", "map", "datamodel",
                  "from", "transpose", "xyseries", "rest", "multikv", "pivot", "loadjob",
                  "savedsearch", "appendpipe"):
        return made, True
    return made, False


def filtered_fields(segments, base_known, lookup_columns, command_outputs):
    """[(field, where)] of fields a search filters on that are neither in
    ``base_known`` nor created earlier in its own pipeline."""
    unknown = []
    _filtered(segments, set(base_known), lookup_columns, command_outputs, unknown, "")
    return unknown


def _filtered(segments, base_known, lookup_columns, command_outputs, unknown, where):
    known = set(base_known)
    is_open = False
    for index, seg in enumerate(segments):
        label = "%s%s #%d" % (where, seg.name, index + 1)
        for sub in seg.subsearches:
            # a subsearch is a pipeline of its own: it starts from the base fields; the
            # subpipeline of appendpipe runs on the current results ("applied to the current
            # result set": https://help.splunk.com/splunk-cloud-platform/spl-search-reference/10.0.2503/search-commands/appendpipe)
            start = known if seg.name == "appendpipe" else base_known
            made = _filtered(sub, start, lookup_columns, command_outputs, unknown, label + " [subsearch] ")
            if seg.name in ("join", "append", "appendcols", "union", "multisearch", "appendpipe"):
                known |= made
        used = set(field for field, _, _ in comparisons(seg))
        if seg.name == "where":
            used |= where_fields(seg.args)
        if not is_open:
            for field in sorted(used):
                if field not in known and not _cim_dotted(field, known):
                    unknown.append((field, label))
        made, opened = produced_fields(seg, lookup_columns, command_outputs)
        known |= made
        # After an unknown (unexpanded) macro, any field may exist: reported as a macro problem.
        is_open = is_open or opened or "`" in seg.name + seg.args
    return known


def _cim_dotted(field, known):
    """``All_Traffic.dest``: a data model field, known when its object prefix is."""
    return "." in field and field.split(".", 1)[0] in known
