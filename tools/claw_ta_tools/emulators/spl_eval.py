"""A small interpreter for the SPL ``eval`` expressions props.conf uses.

It lets the tests run the calculated fields of ``default/props.conf`` on
sample events without a Splunk server. It knows only the subset the add-on
uses (and fails loudly on anything else, so props.conf cannot drift out of
what is tested): string and number literals, field names (bare or in single
quotes), ``.`` concatenation, ``==``/``!=``, ``AND``/``OR``/``NOT`` and the
functions coalesce, json_extract, if, case, in, isnull, isnotnull, null,
match, replace, lower, strptime, true, abs, time, and numeric ``<``, ``<=``,
``>``, ``>=``, ``+``, ``-``. Values follow Splunk: fields are strings, a
missing field is null, functions of null give null; ``time()`` is the wall
clock, or the index time the caller puts in the ``INDEX_TIME_FIELD`` entry.
"""
import calendar
import json
import re
import time

INDEX_TIME_FIELD = "\x00index_time"  # not a field name SPL can write: the emulator's clock

TOKEN = re.compile(r"""
    \s*(?:
      (?P<str>"(?:[^"\\]|\\.)*")
    | (?P<quoted>'[^']*')
    | (?P<num>\d+(?:\.\d+)?)
    | (?P<op>==|!=|<=|>=|[<>(),.+-])
    | (?P<word>[A-Za-z_][A-Za-z0-9_.:]*)
    )""", re.X)


def tokenize(text):
    tokens, pos = [], 0
    text = text.strip()
    while pos < len(text):
        match = TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise SyntaxError("cannot tokenize at %r" % text[pos:pos + 30])
        kind = match.lastgroup
        value = match.group(kind)
        if kind == "str":
            value = value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        elif kind == "quoted":
            kind, value = "field", value[1:-1]
        elif kind == "word" and value not in ("AND", "OR", "NOT"):
            kind = "name"
        elif kind == "word":
            kind = "op"
        tokens.append((kind, value))
        pos = match.end()
    return tokens


class Parser(object):
    """Recursive descent: or > and > not > comparison > concat > primary."""

    def __init__(self, text):
        self.tokens = tokenize(text)
        self.pos = 0

    def peek(self):
        return self.tokens[self.pos] if self.pos < len(self.tokens) else (None, None)

    def take(self, value=None):
        tok = self.peek()
        if value is not None and tok[1] != value:
            raise SyntaxError("expected %r, got %r" % (value, tok[1]))
        self.pos += 1
        return tok

    def parse(self):
        node = self.or_()
        if self.pos != len(self.tokens):
            raise SyntaxError("unexpected %r" % (self.peek(),))
        return node

    def or_(self):
        node = self.and_()
        while self.peek() == ("op", "OR"):
            self.take()
            node = ("or", node, self.and_())
        return node

    def and_(self):
        node = self.not_()
        while self.peek() == ("op", "AND"):
            self.take()
            node = ("and", node, self.not_())
        return node

    def not_(self):
        if self.peek() == ("op", "NOT"):
            self.take()
            return ("not", self.not_())
        return self.compare()

    def compare(self):
        node = self.concat()
        if self.peek()[0] == "op" and self.peek()[1] in ("==", "!=", "<", "<=", ">", ">="):
            op = self.take()[1]
            node = (op, node, self.concat())
        return node

    def concat(self):
        node = self.sum_()
        while self.peek() == ("op", "."):
            self.take()
            node = ("concat", node, self.sum_())
        return node

    def sum_(self):
        node = self.primary()
        while self.peek()[0] == "op" and self.peek()[1] in ("+", "-"):
            op = self.take()[1]
            node = (op, node, self.primary())
        return node

    def primary(self):
        kind, value = self.take()
        if kind == "str":
            return ("lit", value)
        if kind == "num":
            return ("lit", value)
        if kind == "field":
            return ("field", value)
        if kind == "op" and value == "(":
            node = self.or_()
            self.take(")")
            return node
        if kind == "name":
            if self.peek() == ("op", "("):
                self.take("(")
                args = []
                if self.peek() != ("op", ")"):
                    args.append(self.or_())
                    while self.peek() == ("op", ","):
                        self.take()
                        args.append(self.or_())
                self.take(")")
                return ("call", value, args)
            return ("field", value)
        raise SyntaxError("unexpected token %r" % value)


def _json_extract(text, path):
    if text is None or path is None:
        return None
    try:
        obj = json.loads(text)
    except ValueError:
        return None
    for part in path.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return None
        obj = obj[part]
    if obj is None:
        return None
    if isinstance(obj, bool):
        return "true" if obj else "false"
    if isinstance(obj, (dict, list)):
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    return str(obj)


def _pcre_to_python(pattern):
    return re.sub(r"\(\?<(?=[A-Za-z_])", "(?P<", pattern)


def _replace(text, pattern, repl):
    if text is None:
        return None
    repl = re.sub(r"\\(\d)", r"\\g<\1>", repl)
    return re.sub(_pcre_to_python(pattern), repl, text)


# strptime: the subset of Splunk's time format variables the add-on uses;
# %<n>N = up to n subsecond digits; text after the format is ignored.
_TIME_PARTS = {
    "%Y": r"(?P<Y>\d{4})", "%m": r"(?P<m>\d\d)", "%d": r"(?P<d>\d\d)",
    "%H": r"(?P<H>\d\d)", "%M": r"(?P<M>\d\d)", "%S": r"(?P<S>\d\d)",
    "%Z": r"(?P<Z>Z|UTC|[+-]\d\d:?\d\d)", "%z": r"(?P<Z>[+-]\d\d\d\d)",
}
_TIME_REGEXES = {}


def time_regex(time_format):
    regex = _TIME_REGEXES.get(time_format)
    if regex is not None:
        return regex
    out, i = "", 0
    while i < len(time_format):
        sub = re.match(r"%(\d)N", time_format[i:])
        if sub:
            out += r"(?P<N>\d{1,%s})" % sub.group(1)
            i += len(sub.group(0))
        elif time_format[i:i + 2] in _TIME_PARTS:
            out += _TIME_PARTS[time_format[i:i + 2]]
            i += 2
        else:
            out += re.escape(time_format[i])
            i += 1
    regex = _TIME_REGEXES[time_format] = re.compile(out)
    return regex


def strptime(text, time_format):
    """Epoch seconds (float) of ``text`` read with ``time_format``, else None."""
    if text is None or time_format is None:
        return None
    match = time_regex(time_format).match(text)
    if not match:
        return None
    g = match.groupdict()
    seconds = calendar.timegm((int(g["Y"]), int(g["m"]), int(g["d"]), int(g["H"]), int(g["M"]),
                               int(g["S"]), 0, 0, 0))
    zone = g.get("Z") or "Z"
    if zone not in ("Z", "UTC"):
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        seconds -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return seconds + (float("0." + g["N"]) if g.get("N") else 0.0)


def _number(value):
    """A number, or None (strings that are not numbers, booleans, the emulator's TimeFailed)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def evaluate(node, fields):
    kind = node[0]
    if kind == "lit":
        return node[1]
    if kind == "field":
        return fields.get(node[1])
    if kind == "concat":
        left, right = evaluate(node[1], fields), evaluate(node[2], fields)
        return None if left is None or right is None else left + right
    if kind in ("==", "!="):
        left, right = evaluate(node[1], fields), evaluate(node[2], fields)
        if left is None or right is None:
            return False
        return (left == right) if kind == "==" else (left != right)
    if kind in ("<", "<=", ">", ">=", "+", "-"):
        left, right = _number(evaluate(node[1], fields)), _number(evaluate(node[2], fields))
        if left is None or right is None:
            return False if kind in ("<", "<=", ">", ">=") else None
        return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right,
                "+": left + right, "-": left - right}[kind]
    if kind == "and":
        return bool(evaluate(node[1], fields)) and bool(evaluate(node[2], fields))
    if kind == "or":
        return bool(evaluate(node[1], fields)) or bool(evaluate(node[2], fields))
    if kind == "not":
        return not evaluate(node[1], fields)
    name, args = node[1], node[2]
    if name == "coalesce":
        for arg in args:
            value = evaluate(arg, fields)
            if value is not None:
                return value
        return None
    if name == "if":
        return evaluate(args[1] if evaluate(args[0], fields) else args[2], fields)
    if name == "case":
        for cond, value in zip(args[0::2], args[1::2]):
            if evaluate(cond, fields):
                return evaluate(value, fields)
        return None
    values = [evaluate(arg, fields) for arg in args]
    if name == "json_extract":
        return _json_extract(*values)
    if name == "in":
        return values[0] is not None and values[0] in values[1:]
    if name == "isnull":
        return values[0] is None
    if name == "isnotnull":
        return values[0] is not None
    if name == "null":
        return None
    if name == "true":
        return True
    if name == "time":
        return fields.get(INDEX_TIME_FIELD) or time.time()
    if name == "abs":
        number = _number(values[0])
        return None if number is None else abs(number)
    if name == "match":
        return values[0] is not None and re.search(_pcre_to_python(values[1]), values[0]) is not None
    if name == "replace":
        return _replace(*values)
    if name == "lower":
        return None if values[0] is None else values[0].lower()
    if name == "strptime":
        return strptime(*values)
    raise SyntaxError("eval function %s() is not supported by this interpreter" % name)


def compile_expression(text):
    """Parse once; returns a function fields -> value."""
    node = Parser(text).parse()
    return lambda fields: evaluate(node, fields)
