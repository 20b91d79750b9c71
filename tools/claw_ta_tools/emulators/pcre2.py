"""The system's PCRE2 library (the engine Splunk's regexes run on), through ctypes, with a depth limit.

Python's ``re`` has no backtracking depth limit, so a regex that PCRE gives up
on looks fine in the props emulator. Splunk bounds PCRE's backtracking depth:
transforms.conf ``DEPTH_LIMIT`` ("Limits the amount of resources that are
spent by PCRE when running patterns that do not match", default 1000,
https://help.splunk.com/en/data-management/splunk-enterprise-admin-manual/10.0/10.0.0-configuration-file-reference/transforms.conf);
no setting raises it for an ``INGEST_EVAL`` expression, so the tests run the
add-on's index-time regexes here under that default. ``available()`` is False
where libpcre2-8 is not installed (the tests then skip, saying so).
"""
import ctypes
import ctypes.util

SPLUNK_DEPTH_LIMIT = 1000
ERROR_DEPTHLIMIT = -53
ERROR_NOMATCH = -1
_UTF = 0x00080000  # PCRE2_UTF

_LIB = []


def _lib():
    if not _LIB:
        name = ctypes.util.find_library("pcre2-8") or "libpcre2-8.so.0"
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            _LIB.append(None)
            return None
        lib.pcre2_compile_8.restype = ctypes.c_void_p
        lib.pcre2_compile_8.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint32,
                                        ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_size_t),
                                        ctypes.c_void_p]
        lib.pcre2_match_data_create_from_pattern_8.restype = ctypes.c_void_p
        lib.pcre2_match_data_create_from_pattern_8.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        lib.pcre2_match_context_create_8.restype = ctypes.c_void_p
        lib.pcre2_match_context_create_8.argtypes = [ctypes.c_void_p]
        lib.pcre2_set_depth_limit_8.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
        lib.pcre2_match_8.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_size_t,
                                      ctypes.c_uint32, ctypes.c_void_p, ctypes.c_void_p]
        for free in ("pcre2_code_free_8", "pcre2_match_data_free_8", "pcre2_match_context_free_8"):
            getattr(lib, free).argtypes = [ctypes.c_void_p]
        _LIB.append(lib)
    return _LIB[0]


def available():
    return _lib() is not None


def match(pattern, subject, depth_limit=SPLUNK_DEPTH_LIMIT):
    """PCRE2's result for ``pattern`` on ``subject``: > 0 matched, ERROR_NOMATCH, or an error (ERROR_DEPTHLIMIT)."""
    lib = _lib()
    if lib is None:
        raise RuntimeError("libpcre2-8 is not installed")
    raw_pattern = pattern.encode("utf-8")
    error, offset = ctypes.c_int(), ctypes.c_size_t()
    code = lib.pcre2_compile_8(raw_pattern, len(raw_pattern), _UTF, ctypes.byref(error), ctypes.byref(offset), None)
    if not code:
        raise ValueError("PCRE2 cannot compile %r (error %d at %d)" % (pattern, error.value, offset.value))
    data = lib.pcre2_match_data_create_from_pattern_8(code, None)
    context = lib.pcre2_match_context_create_8(None)
    try:
        lib.pcre2_set_depth_limit_8(context, depth_limit)
        raw = subject.encode("utf-8")
        return lib.pcre2_match_8(code, raw, len(raw), 0, 0, data, context)
    finally:
        lib.pcre2_match_context_free_8(context)
        lib.pcre2_match_data_free_8(data)
        lib.pcre2_code_free_8(code)
