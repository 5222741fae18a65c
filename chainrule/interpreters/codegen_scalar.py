"""Scalar code: a program whose every value is a 0-d float, compiled to
Python arithmetic on ``float`` and the ``math`` module instead of NumPy calls.

A NumPy call on a 0-d value costs about half a microsecond of dispatch; the
same operation on a Python ``float`` costs tens of nanoseconds.  So when
each input, constant, literal and result of a program is a 0-d ``f64`` (or a
``bool``, for comparisons and ``select``), ``compile_scalar`` writes one
Python function with a line per equation::

    def scalar_program(a0):
        try:
            r0 = _float(a0)          # the argument, once, as a Python float
            r1 = _sin(r0)            # sin a
            r1 = r1 * 0.5            # mul b 0.5:f64[]  (r1 reused: b is dead)
            ...
        except _DIFFERS:             # math refused: NumPy's answer instead
            return _fallback(a0)
        return [_f64(r1), _f64(r2)]

Python and NumPy agree on IEEE arithmetic except where Python raises:
``math.log(-1.0)`` and ``math.sqrt(-1.0)`` raise ``ValueError`` where NumPy
gives ``nan``, ``math.exp(1000.0)`` raises ``OverflowError`` where NumPy gives
``inf``, ``x / 0.0`` raises ``ZeroDivisionError`` where NumPy gives ``±inf``
or ``nan``, ``math.floor(inf)`` cannot make an integer.  Those exceptions are
the signal: the whole call is re-run by ``fallback`` (the array-mode program),
so a result is always NumPy's.  Where Python would *not* raise but answer
differently, the emitted code spells out NumPy's rule: ``np.maximum``
propagates NaN (Python's ``max`` does not), ``np.sign(-0.0)`` is ``+0.0``,
``np.ceil(-0.5)`` is ``-0.0`` (``math.ceil`` gives the integer ``0``, so a
rounded result takes the operand's sign back with ``copysign``), ``np.round``
rounds half to even (as Python's ``round``), ``pow`` goes through
``math.pow`` (``**`` would return a complex number for a negative base), and
an exponent of 2, 0.5, -1, 0 or 1 takes the fast paths of NumPy's power loop
for a 0-d exponent (``x * x``, ``sqrt(x)``, ``1 / x``, ...: so
``(-0.0) ** 0.5`` is ``-0.0`` and ``(-inf) ** 0.5`` is ``nan``, as NumPy gives,
where C's ``pow`` gives ``+0.0`` and ``inf``).

How close to NumPy: bit-equal (up to the sign of a NaN) for arithmetic,
comparisons, ``sqrt``, ``sin``, ``cos``, rounding, ``rem``/``floor_div``,
``max``/``min``, ``logaddexp`` and the power fast paths.  NumPy computes
``exp``, ``log``, ``tan``, the inverse and hyperbolic functions, ``pow``,
``atan2``, ``hypot`` and ``cbrt`` with its own SIMD code on this machine
(AVX-512) while ``math`` calls the C library, so there the two may differ in
the last bits: measured on 20,000 random operands each, at most 1 ulp,
2 ulp for ``sinh`` and ``logistic`` (through ``exp``), 3 ulp for ``tanh`` and
``cbrt`` (the bounds tests/test_codegen_scalar.py checks).

Each value lives in a register ``r<n>``, reused as soon as the value is
dead (``IR.last_uses`` in spirit, computed here on the program after
identities such as ``stop_gradient`` and 0-d ``reshape`` are made aliases),
so a function holds as many locals as values are live at once, not one per
equation, and a chain of 10^5 equations runs in a handful.  Helpers and
constants are variables of an enclosing function (closure cells, as fast to
read as locals and free per call).  Nothing user-controlled becomes source
text: names are generated, a literal is written as ``repr(float(value))``
only when it is finite (others are bound as constants), constants and the
fallback are bound objects.

Results have the types the evaluate interpreter gives: ``np.float64`` (or
``np.bool_``) for a computed value, a 0-d array where NumPy's ``reshape`` or
``broadcast_to`` would give one, and for a value passed through from an
argument, the type of that argument.
"""
from __future__ import annotations

import itertools
import linecache
import math
from collections import deque

import numpy as np

from ..primitives._ops import PRIMITIVES
from ..tracer.atoms import Literal

_F64 = np.dtype(np.float64)
_BOOL = np.dtype(np.bool_)
# a signature letter per dtype: "f" a Python float, "b" a Python bool
_LETTER = {_F64: "f", _BOOL: "b"}


# -- helpers the emitted code calls, each NumPy's rule written for floats ---------------------
def _logistic(x):
    # as primitives/elementwise.py: exp(-|x|) never overflows
    e = math.exp(-math.fabs(x))
    return 1.0 / (1.0 + e) if x >= 0.0 else e / (1.0 + e)


_LOG_2 = float(np.logaddexp(0.0, 0.0))     # NumPy's own constant ln 2


def _logaddexp(x, y):
    # NumPy's npy_logaddexp: log(e^x + e^y) = max + log1p(e^-|x - y|)
    if x == y:                  # also equal infinities, where x - y is nan
        return x + _LOG_2
    d = x - y
    if d > 0.0:
        return x + math.log1p(math.exp(-d))
    if d <= 0.0:
        return y + math.log1p(math.exp(d))
    return d                    # a nan operand


def _power(x, y):
    # np.power with a 0-d exponent takes the fast paths of NumPy's power
    # loop for a scalar exponent (numpy/_core/src/umath): so does this
    if y == 2.0:
        return x * x
    if y == 0.5:
        return math.sqrt(x)     # sqrt's rules: (-0.0) ** 0.5 = -0.0, (-inf) ** 0.5 = nan
    if y == -1.0:
        return 1.0 / x
    if y == 0.0:
        return 1.0
    if y == 1.0:
        return x
    return math.pow(x, y)       # raises where ** would give a complex number


# the same fast paths for an exponent known when compiling (pow by a literal,
# integer_pow): a template instead of the call
_POWER_FAST_PATHS = {2.0: "{0} * {0}", 0.5: "_sqrt({0})", -1.0: "1.0 / {0}", 0.0: "1.0",
                     1.0: "{0}"}


def _like_input(value, arg, reshaped, scalar_type):
    """A value passed through from argument ``arg`` (maybe reshaped to 0-d),
    with the type the evaluate interpreter would give it: an array stays a
    (new) 0-d array, a NumPy scalar a NumPy scalar, a Python number a Python
    number, which NumPy's ``reshape`` makes a 0-d array."""
    if isinstance(arg, np.ndarray) or (reshaped and not isinstance(arg, np.generic)):
        return np.array(value, scalar_type)
    if isinstance(arg, np.generic):
        return scalar_type(value)
    return value


# every name the emitted code reads besides its registers, arguments and constants
_HELPERS = {
    "_float": float, "_bool": bool, "_f64": np.float64, "_b": np.bool_, "_array": np.array,
    "_like": _like_input, "_DIFFERS": (ValueError, OverflowError, ZeroDivisionError),
    "_logistic": _logistic, "_logaddexp": _logaddexp, "_power": _power, "_round": round,
    **{"_" + name: getattr(math, name) for name in (
        "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh",
        "atanh", "exp", "exp2", "log", "log1p", "expm1", "sqrt", "cbrt", "fabs", "floor", "ceil",
        "trunc", "copysign", "pow", "atan2", "hypot")},
}


# -- emitters: primitive -> (operand signatures, template) -------------------------------------
# A signature is the operands' letters, "->", the result's letter.  The template
# formats the operands' texts (names or literals) as {0}, {1}, {2}; None marks
# an identity, which emits nothing: its result is another name for its operand.
def _integral(name):
    # math.floor(x) is an int (raising for inf and nan); NumPy keeps the
    # operand's sign on a zero result: floor(-0.0) = -0.0, ceil(-0.5) = -0.0
    return "_copysign(_float(_%s({0})), {0})" % name


_UNARY_MATH = ("sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh",
               "acosh", "atanh", "exp", "exp2", "log", "log1p", "expm1", "sqrt", "cbrt")
_EMIT_BY_NAME = {
    **{name: (("f->f",), "_%s({0})" % name) for name in _UNARY_MATH},
    "neg": (("f->f",), "-{0}"),
    "abs": (("f->f",), "_fabs({0})"),
    # np.sign: +-1, +0.0 for either zero, nan for nan
    "sign": (("f->f",), "(1.0 if {0} > 0.0 else -1.0 if {0} < 0.0 else 0.0 if {0} == 0.0 "
                        "else {0})"),
    "logistic": (("f->f",), "_logistic({0})"),
    "floor": (("f->f",), _integral("floor")),
    "ceil": (("f->f",), _integral("ceil")),
    "trunc": (("f->f",), _integral("trunc")),
    "round": (("f->f",), _integral("round")),     # round(x): half to even, as np.rint
    "signbit": (("f->b",), "(_copysign(1.0, {0}) < 0.0)"),
    "add": (("ff->f",), "{0} + {1}"),
    "sub": (("ff->f",), "{0} - {1}"),
    "mul": (("ff->f",), "{0} * {1}"),
    "div": (("ff->f",), "{0} / {1}"),
    "rem": (("ff->f",), "{0} % {1}"),             # Python's float % is np.remainder's
    "floor_div": (("ff->f",), "{0} // {1}"),      # ... and // is np.floor_divide's rule
    "pow": (("ff->f",), "_power({0}, {1})"),      # by a literal: see _exponent_template
    # np.maximum: a nan in either operand wins; at a tie (0.0, -0.0) the second
    "max": (("ff->f",), "({0} if {0} > {1} or {0} != {0} else {1})"),
    "min": (("ff->f",), "({0} if {0} < {1} or {0} != {0} else {1})"),
    "atan2": (("ff->f",), "_atan2({0}, {1})"),
    "hypot": (("ff->f",), "_hypot({0}, {1})"),
    "logaddexp": (("ff->f",), "_logaddexp({0}, {1})"),
    **{name: (("ff->b", "bb->b"), "{0} %s {1}" % op) for name, op in (
        ("eq", "=="), ("ne", "!="), ("lt", "<"), ("le", "<="), ("gt", ">"), ("ge", ">="))},
    "not": (("b->b",), "(not {0})"),
    "and": (("bb->b",), "({0} and {1})"),
    "or": (("bb->b",), "({0} or {1})"),
    "xor": (("bb->b",), "({0} != {1})"),
    "select": (("bff->f", "bbb->b"), "({1} if {0} else {2})"),
    "convert_element_type": (("f->f", "b->b"), None),
    "stop_gradient": (("f->f", "b->b"), None),
    # on 0-d values, the structural primitives and reductions are identities,
    # except np.sum, which adds to 0.0 (so -0.0 sums to +0.0)
    "reshape": (("f->f", "b->b"), None),
    "squeeze": (("f->f", "b->b"), None),
    "broadcast_in_dim": (("f->f", "b->b"), None),
    "reduce_sum": (("f->f",), "({0} + 0.0)"),
    "reduce_max": (("f->f",), None),
    "reduce_min": (("f->f",), None),
    "reduce_prod": (("f->f",), None),
}
# the conversions that change the dtype, by signature (np.asarray(x).astype)
_CONVERT = {"f->b": "({0} != 0.0)", "b->f": "(1.0 if {0} else 0.0)"}
_EMITTERS = {PRIMITIVES[name]: rule for name, rule in _EMIT_BY_NAME.items()}
_CONVERT_P = PRIMITIVES["convert_element_type"]
_INTEGER_POW_P = PRIMITIVES["integer_pow"]
_POW_P = PRIMITIVES["pow"]
# the type each primitive's NumPy implementation gives a 0-d result: a NumPy
# scalar, except these, which give an array (broadcast_to) or keep the
# operand's kind (reshape, squeeze, stop_gradient)
_GIVES_ARRAY = {PRIMITIVES["broadcast_in_dim"]}
_KEEPS_KIND = {PRIMITIVES["reshape"]: True, PRIMITIVES["squeeze"]: True,
               PRIMITIVES["stop_gradient"]: False}


class ScalarCode:
    """A compiled scalar program: ``code(*flat_args)`` gives the list of
    outputs; ``source`` is the generated Python; ``function`` the plain
    function it calls (without this object's dispatch).  It does not check
    its arguments: give it values of the signature it was compiled for."""

    __slots__ = ("function", "source", "filename")

    def __init__(self, function, source, filename):
        self.function, self.source, self.filename = function, source, filename

    def __call__(self, *args):
        return self.function(*args)

    def __repr__(self):
        return f"<ScalarCode {self.filename}: {self.source.count(chr(10))} lines>"


def compile_scalar(closed, fallback):
    """``closed`` (a ClosedIR) compiled to scalar Python code, or None when
    some value is not a 0-d ``f64``/``bool`` or some primitive has no scalar
    form here.  ``fallback(*flat_args)`` (the array-mode program) answers
    every call on which Python's ``float``/``math`` would raise where NumPy
    gives a number (domain errors, overflow, division by zero)."""
    plan = _plan(closed)
    if plan is None:
        return None
    source, bound = _write(closed.ir, *plan)
    filename = f"<chainrule-scalar {next(_COUNTER)}>"
    _remember_source(filename, source)
    namespace = {}
    exec(compile(source, filename, "exec"), namespace)
    return ScalarCode(namespace["_bind"](_fallback=fallback, **bound), source, filename)


def _letter(aval):
    return _LETTER.get(aval.dtype) if aval.shape == () else None


def _const_value(value, letter):
    """A constant as a Python float or bool (None if it is not a 0-d value
    of the declared dtype, such as a tracer of an enclosing trace)."""
    if isinstance(value, (np.ndarray, np.generic)):
        if value.shape != () or _LETTER.get(value.dtype) != letter:
            return None
    elif type(value) is not {"f": float, "b": bool}[letter]:
        return None
    return float(value) if letter == "f" else bool(value)


def _plan(closed):
    """Check the program is scalar and resolve it: ``(alias, lines, kinds,
    consts)`` or None.  ``alias`` maps a result of an identity to the atom it
    names; ``lines`` are the equations that compute, as ``(outvar, template,
    operand atoms)``; ``kinds`` the type each value would have under the
    evaluate interpreter; ``consts`` the constants as Python numbers."""
    ir = closed.ir
    kinds, consts = {}, {}
    for i, v in enumerate(ir.invars):
        if _letter(v.aval) is None:
            return None
        kinds[v] = ("arg", i, False)
    if len(closed.consts) != len(ir.constvars):
        return None
    for v, value in zip(ir.constvars, closed.consts):
        letter = _letter(v.aval)
        const = None if letter is None else _const_value(value, letter)
        if const is None:
            return None
        consts[v] = const
        kinds[v] = ("array" if isinstance(value, np.ndarray) else
                    "scalar" if isinstance(value, np.generic) else "python")
    alias, lines = {}, []
    for eqn in ir.eqns:
        rule = _EMITTERS.get(eqn.primitive)
        if (rule is None and eqn.primitive is not _INTEGER_POW_P) or len(eqn.outvars) != 1:
            return None
        letters = [_letter(x.aval) for x in eqn.inputs]
        if None in letters:
            return None
        out = eqn.outvars[0]
        signature = "".join(letters) + "->" + str(_letter(out.aval))
        if eqn.primitive is _INTEGER_POW_P:
            template = _integer_pow(eqn.params.get("y"), signature)
        elif eqn.primitive is _POW_P and signature == "ff->f" and type(eqn.inputs[1]) is Literal:
            template = _exponent_template(float(eqn.inputs[1].value), "{1}")
        elif eqn.primitive is _CONVERT_P and signature in _CONVERT:
            template = _CONVERT[signature]
        elif signature in rule[0]:
            template = rule[1]
        else:
            return None
        if template is False:
            return None
        operands = [alias.get(x, x) for x in eqn.inputs]
        if template is None:
            alias[out] = operands[0]
        else:
            lines.append((out, template, operands))
        kinds[out] = _kind_of_result(eqn.primitive, kinds, eqn.inputs[0])
    if any(_letter(x.aval) is None for x in ir.outvars):   # e.g. a float0 literal
        return None
    return alias, lines, kinds, consts


def _integer_pow(y, signature):
    # np.power(x, n, dtype=f64) is np.power by the float n
    if signature != "f->f" or type(y) is not int or abs(y) > 2 ** 53:
        return False
    return _exponent_template(float(y), repr(float(y)))


def _exponent_template(y, exponent_text):
    """x ** y for a y known now: a fast path of NumPy's, or math.pow (which
    may differ from NumPy's SIMD pow in the last ulp)."""
    return _POWER_FAST_PATHS.get(y, "_pow({0}, %s)" % exponent_text)


def _kind_of_result(prim, kinds, operand):
    if prim in _GIVES_ARRAY:
        return "array"
    if prim in _KEEPS_KIND:
        kind = kinds.get(operand, "scalar")      # a literal is a NumPy scalar
        if type(kind) is tuple:                  # passed through from an argument
            return (kind[0], kind[1], kind[2] or _KEEPS_KIND[prim])
        if kind == "python" and _KEEPS_KIND[prim]:
            return "array"                       # np.reshape(1.5, ()) is an array
        return kind
    return "scalar"


def _literal_text(value):
    """Source text for a literal's value, or None when it is not finite
    (those are bound as constants instead).  Made with repr of a float or
    bool converted here, so no text of the user's reaches the source."""
    if isinstance(value, (bool, np.bool_)):
        return repr(bool(value))
    number = float(value)
    if not math.isfinite(number):
        return None
    text = repr(number)
    return f"({text})" if text.startswith("-") else text


def _write(ir, alias, lines, kinds, consts):
    """The source of ``_bind(**bound)``, which returns the compiled function,
    and the objects it binds (helpers and constants)."""
    bound, names = dict(_HELPERS), {}
    for i, (v, value) in enumerate(consts.items()):
        names[v] = f"k{i}"
        bound[f"k{i}"] = value
    outputs = [alias.get(x, x) for x in ir.outvars]
    # liveness, backwards: the last line reading each value (len(lines) for
    # an output); a line whose result nobody reads is dropped (dead code)
    last_use = {x: len(lines) for x in outputs}
    live_lines = []
    for index in range(len(lines) - 1, -1, -1):
        out, template, operands = lines[index]
        if out in last_use:
            live_lines.append(index)
            for x in operands:
                last_use.setdefault(x, index)
    live_lines.reverse()

    free, counter = [], itertools.count()

    def register():
        return free.pop() if free else f"r{next(counter)}"

    def text(x):
        if x not in names:        # a literal: its text, or a constant if not finite
            names[x] = _literal_text(x.value)
            if names[x] is None:
                names[x] = f"n{len(bound)}"
                bound[names[x]] = float(x.value)
        return names[x]

    args = [f"a{i}" for i in range(len(ir.invars))]
    body = []
    for arg, v in zip(args, ir.invars):
        if v in last_use:
            names[v] = register()
            body.append(f"{names[v]} = {'_float' if _letter(v.aval) == 'f' else '_bool'}({arg})")
    for index in live_lines:
        out, template, operands = lines[index]
        expression = template.format(*map(text, operands))
        for x in dict.fromkeys(operands):     # dead after this line: free its register
            if last_use[x] == index and x in names and names[x][0] == "r":
                free.append(names[x])
        names[out] = register()
        body.append(f"{names[out]} = {expression}")
    results = [_wrap(text(x), kinds.get(v, "scalar"), _letter(v.aval), args)
               for x, v in zip(outputs, ir.outvars)]
    signature = ", ".join(args)
    source = "\n".join([
        f"def _bind(_fallback, {', '.join(bound)}):",
        f"    def scalar_program({signature}):",
        "        try:",
        *[f"            {line}" for line in body or ["pass"]],
        "        except _DIFFERS:",
        f"            return _fallback({signature})",
        f"        return [{', '.join(results)}]",
        "    return scalar_program",
        ""])
    return source, bound


def _wrap(text, kind, letter, args):
    """The output expression giving ``text`` the type of ``kind``."""
    if kind == "scalar":
        return f"{'_f64' if letter == 'f' else '_b'}({text})"
    if kind == "array":
        return f"_array({text})"
    if kind == "python":
        return text
    _, i, reshaped = kind
    return f"_like({text}, {args[i]}, {reshaped}, {'_f64' if letter == 'f' else '_b'})"


# -- the source table: tracebacks and inspect show generated lines ----------------------------
_COUNTER = itertools.count()
_MAX_SOURCES = 256
_SOURCES = deque()


def _remember_source(filename, source):
    """Enter ``source`` in ``linecache`` under ``filename``, keeping the
    latest ``_MAX_SOURCES`` programs (older ones leave the table)."""
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    _SOURCES.append(filename)
    while len(_SOURCES) > _MAX_SOURCES:
        linecache.cache.pop(_SOURCES.popleft(), None)
