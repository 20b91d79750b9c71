"""A small SPL reader and linter for the content integrity tests.

Pure functions on SPL text (no files, no Splunk): split a search into its
pipeline (subsearches recursively), expand macros, and list what a search
uses (commands, macros, lookups, eventtypes, tags; the fields it filters on
are in ``tools/claw_ta_tools/emulators/spl_fields.py``) and the known-slow patterns it contains. ``tools/claw_ta_tools/emulators/app_content.py`` reads the
app's conf files; ``tests/test_content_integrity.py`` puts the two together.
"""
import re

IDENT = r"[A-Za-z_][\w.:{}]*"
MACRO = re.compile(r"`([^`()]+?)(?:\((.*?)\))?`", re.S)
COMMENT = re.compile(r"```.*?```", re.S)
QUOTED_OR_MACRO = re.compile(r'"(?:\\.|[^"\\])*"|' + MACRO.pattern, re.S)
DASHBOARD_TOKEN_FILTER = re.compile(r"\$([\w.:]+)\|[a-z]\$")
KEYWORDS = {"and", "or", "not", "in", "like", "true", "false", "null", "by", "as", "xor"}
SEARCH_OPS = re.compile(r"^(%s)\s*(!=|<=|>=|=|<|>)(.*)$" % IDENT, re.S)
# Commands whose arguments are search-language terms (filters on fields).
SEARCH_LIKE = ("search",)
AGGREGATING = ("stats", "eventstats", "streamstats", "tstats", "chart", "timechart",
               "top", "rare", "sistats", "mstats", "geostats")


class Segment(object):
    """One command of a pipeline: ``name`` (lowercase), ``args`` (text, subsearches
    replaced by ``[]``), ``subsearches`` (lists of Segment) and ``implicit``
    (True for the leading search with no command name)."""

    def __init__(self, name, args, subsearches, implicit=False):
        self.name, self.args, self.subsearches, self.implicit = name, args, subsearches, implicit

    def __repr__(self):
        return "Segment(%r, %r)" % (self.name, self.args[:60])


def strip_comments(spl):
    return COMMENT.sub(" ", spl)


def _scan(text):
    """Yield (index, char, depth) outside quotes and macros; depth counts [ ]."""
    depth, i, quote = 0, 0, None
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\" and i + 1 < len(text):
                i += 2
                continue
            if ch == quote:
                quote = None
            i += 1
            continue
        if ch in ('"', "`"):
            quote = ch
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        yield i, ch, depth
        i += 1


def split_pipeline(spl):
    """The list of Segments of ``spl`` (comments removed, subsearches parsed).
    Dashboard tokens with a filter (``$tok|s$``) become a quoted ``"$tok$"``."""
    spl = DASHBOARD_TOKEN_FILTER.sub(r'"$\1$"', strip_comments(spl))
    parts, subs, current, cur_subs, start = [], [], [], [], 0
    sub_start = None
    for i, ch, depth in _scan(spl):
        if ch == "[" and depth == 1:
            sub_start = i
            current.append(spl[start:i])
        elif ch == "]" and depth == 0 and sub_start is not None:
            cur_subs.append(split_pipeline(spl[sub_start + 1:i]))
            current.append("[]")
            start, sub_start = i + 1, None
        elif ch == "|" and depth == 0:
            current.append(spl[start:i])
            parts.append("".join(current))
            subs.append(cur_subs)
            current, cur_subs, start = [], [], i + 1
    if sub_start is not None:  # unbalanced bracket: keep the text as it is
        current.append(spl[sub_start:])
    else:
        current.append(spl[start:])
    parts.append("".join(current))
    subs.append(cur_subs)
    segments = []
    for index, (text, sub) in enumerate(zip(parts, subs)):
        text = text.strip()
        if index == 0 and not text and not sub:
            continue  # the search starts with "|": a generating command follows
        if index == 0:
            text = re.sub(r"^search\b", "", text, flags=re.I).strip()
            segments.append(Segment("search", text, sub, implicit=True))
            continue
        match = re.match(r"(`[^`]*`|[^\s\[]+)\s*(.*)$", text, re.S)
        name, args = (match.group(1), match.group(2)) if match else ("", text)
        segments.append(Segment(name.lower() if not name.startswith("`") else name, args, sub))
    return segments


def walk(segments):
    """Every Segment, subsearches included (depth first)."""
    for seg in segments:
        yield seg
        for sub in seg.subsearches:
            for inner in walk(sub):
                yield inner


def split_args(text, sep=None):
    """Split on whitespace (or ``sep``) outside quotes and parentheses."""
    out, buf, depth, quote = [], [], 0, None
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            buf.append(ch)
            if ch == "\\" and i + 1 < len(text):
                buf.append(text[i + 1])
                i += 2
                continue
            if ch == quote:
                quote = None
        elif ch in ('"', "'", "`"):
            quote = ch
            buf.append(ch)
        elif ch == "(":
            depth += 1
            buf.append(ch)
        elif ch == ")":
            depth -= 1
            buf.append(ch)
        elif depth == 0 and ((sep is None and ch.isspace()) or ch == sep):
            if buf or sep is not None:
                out.append("".join(buf).strip())
            buf = []
        else:
            buf.append(ch)
        i += 1
    if buf:
        out.append("".join(buf).strip())
    return [part for part in out if part or sep is not None]


def unquote(token):
    if len(token) >= 2 and token[0] == token[-1] and token[0] in "\"'":
        return token[1:-1]
    return token


# --- Macros -------------------------------------------------------------------

def macro_calls(spl):
    """[(name, argument count, [args])] of every backtick macro in ``spl``."""
    calls = []
    for match in MACRO.finditer(strip_comments(spl)):
        args = [] if match.group(2) is None else split_args(match.group(2), sep=",")
        calls.append((match.group(1).strip(), len(args), args))
    return calls


def expand_macros(spl, macros, depth=0):
    """``spl`` with every known macro replaced by its definition (args substituted).

    ``macros``: {(name, nargs): (definition, [arg names], iseval)}. Unknown
    macros stay in place; eval-based macros (iseval) become an empty string.
    """
    if depth > 20:
        raise ValueError("macro expansion deeper than 20 levels (recursive macro?)")

    def replace(match):
        args = [] if match.group(2) is None else split_args(match.group(2), sep=",")
        key = (match.group(1).strip(), len(args))
        if key not in macros:
            return match.group(0)
        definition, names, iseval = macros[key]
        if iseval:
            return ""
        for arg_name, value in zip(names, args):
            definition = definition.replace("$%s$" % arg_name, value)
        # Splunk pastes the definition in place of the call, nothing around it:
        # `` x=`v` `` with v = 1 is ``x=1`` (Knowledge Manager Manual, "Use search
        # macros in searches": https://help.splunk.com/en/splunk-enterprise/manage-knowledge-objects/knowledge-management-manual/10.0/search-macros).
        return expand_macros(definition, macros, depth + 1)

    def outside_quotes(match):
        # Macros inside quoted values are not expanded (same page).
        return match.group(0) if match.group(0).startswith('"') else replace(match)

    return QUOTED_OR_MACRO.sub(outside_quotes, strip_comments(spl))


# --- What a search uses ---------------------------------------------------------

def commands_used(segments):
    return sorted({seg.name for seg in walk(segments) if seg.name and not seg.name.startswith("`")})


def lookups_used(segments):
    """[(command, lookup name)] for lookup / inputlookup / outputlookup."""
    found = []
    for seg in walk(segments):
        if seg.name in ("lookup", "inputlookup", "outputlookup", "inputcsv", "outputcsv"):
            for token in split_args(seg.args):
                if "=" not in token:
                    found.append((seg.name, unquote(token)))
                    break
    return found


def search_terms(seg):
    """The search-language terms of a search segment (or a tstats where clause)."""
    text = seg.args
    if seg.name == "tstats":
        match = re.search(r"\bwhere\b(.*?)(?:\bby\b|$)", text, re.S | re.I)
        text = match.group(1) if match else ""
    elif seg.name not in SEARCH_LIKE:
        return []
    return search_tokens(text)


def search_tokens(text):
    """Whitespace-separated search terms; parentheses outside quotes split terms."""
    terms, buf, quote, i = [], [], None, 0
    while i < len(text):
        ch = text[i]
        if quote:
            buf.append(ch)
            if ch == "\\" and i + 1 < len(text):
                buf.append(text[i + 1])
                i += 1
            elif ch == quote:
                quote = None
        elif ch in ('"', "`"):
            quote = ch
            buf.append(ch)
        elif ch.isspace() or ch in "()":
            if buf:
                terms.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
        i += 1
    if buf:
        terms.append("".join(buf))
    return terms


def _in_lists(args):
    """(field, [values]) of every ``field IN (a, b)`` in search text."""
    for match in re.finditer(r"(%s)\s+IN\s*\(([^)]*)\)" % IDENT, args, re.I):
        yield match.group(1), [unquote(v.strip()) for v in split_args(match.group(2), sep=",")]


def comparisons(seg):
    """[(field, op, value)] of the search terms of a search segment."""
    out = []
    for term in search_terms(seg):
        match = SEARCH_OPS.match(term)
        if match and match.group(1).lower() not in KEYWORDS:
            out.append((match.group(1), match.group(2), unquote(match.group(3).strip())))
    if seg.name in SEARCH_LIKE:
        for field, values in _in_lists(seg.args):
            out.extend((field, "IN", value) for value in values)
    return out


def eventtypes_and_tags(segments):
    """({eventtype names}, {tag values}) referenced in search terms."""
    eventtypes, tags = set(), set()
    for seg in walk(segments):
        for field, op, value in comparisons(seg):
            if op not in ("=", "IN"):
                continue
            if field == "eventtype":
                eventtypes.add(value)
            elif field == "tag" or field.startswith("tag::"):
                tags.add(value)
    return eventtypes, tags


# --- Lint rules (known-slow patterns) -----------------------------------------

def lint(spl, unexpanded=None):
    """Problems (strings) with ``spl`` (macros expanded). ``unexpanded`` (the text as
    written) is used for the ``| search`` rule, so a `x_filter` macro placed
    right after the base search (a user tuning hook) is not flagged."""
    problems = []
    segments = split_pipeline(spl)
    for seg in walk(segments):
        for field, op, value in comparisons(seg):
            if field.lower() == "index" and value == "*":
                problems.append("index=* (searches every index): use `claw_runtime_index`")
            elif op in ("=", "!=", "IN") and value.startswith("*") and value.strip("*"):
                problems.append("leading wildcard in %s%s%s (scans every term)" % (field, op, value))
        for term in search_terms(seg):
            bare = unquote(term)
            if bare.startswith("*") and bare.strip("*") and not SEARCH_OPS.match(term):
                problems.append("leading wildcard in search term %s" % term)
        if seg.name == "join":
            options = dict(re.findall(r"\b(max)\s*=\s*(\d+)", seg.args))
            bounded_sub = any(re.search(r"\b(maxout|maxtime)\s*=|\|\s*head\s+\d+", _text(sub))
                              for sub in seg.subsearches)
            if options.get("max", "0") == "0" and not bounded_sub:
                problems.append("unbounded join: give max=N or limit its subsearch (head N, maxout=)")
        if seg.name == "transaction" and not re.search(r"\bmaxspan\s*=", seg.args):
            problems.append("unbounded transaction: give maxspan=")
    pipelines = [split_pipeline(unexpanded if unexpanded is not None else spl)]
    while pipelines:  # the main search and every subsearch
        written = pipelines.pop()
        pipelines += [sub for seg in written for sub in seg.subsearches]
        if len(written) > 1 and written[1].name == "search" and (
                written[0].implicit or written[0].name in ("search", "inputlookup", "from")):
            problems.append("| search right after the generating search: fold it into the base search")
    return problems


def _text(segments):
    return " | ".join("%s %s %s" % (s.name, s.args, " ".join("[%s]" % _text(x) for x in s.subsearches))
                      for s in segments)


# --- Risky commands and subsearch joins ---------------------------------------

# Splunk's risky commands (SPL safeguards): "Commands that trigger SPL safeguards",
# https://help.splunk.com/en/splunk-enterprise/administer/manage-users-and-security/10.2/best-practices-for-splunk-platform-security/spl-safeguards-for-risky-commands/commands-that-trigger-spl-safeguards
# A custom command is risky when its commands.conf stanza sets ``is_risky = true``.
RISKY_COMMANDS = frozenset("""
collect delete dump map mcollect meventcollect outputcsv outputlookup run runshellscript
script sendalert sendemail tscollect
""".split())
# Commands that combine the main results with a subsearch's: the subsearch stops
# at [subsearch] maxout / maxtime (limits.conf) and is finalized silently.
SUBSEARCH_JOINS = ("append", "appendcols", "join")


def risky_commands(segments, custom_risky=()):
    """Sorted names of the risky commands ``segments`` run (subsearches included)."""
    return sorted({seg.name for seg in walk(segments)
                   if seg.name in RISKY_COMMANDS or seg.name in custom_risky})


def subsearch_joins(segments):
    """``append``/``appendcols``/``join`` commands whose subsearch reads data: their
    results can be cut at the subsearch limits without an error. A subsearch that
    is only ``| makeresults`` (a constant row) cannot be cut and is not listed."""
    found = []
    for seg in walk(segments):
        if seg.name not in SUBSEARCH_JOINS:
            continue
        for sub in seg.subsearches:
            if sub and sub[0].name == "makeresults" and not any(s.subsearches for s in sub):
                continue
            found.append("%s [%s]" % (seg.name, _text(sub)[:80]))
    return found
