"""R's number formatting rules, reimplemented so printed output is byte-identical to R 4.2.

The pieces mirror R's C and R sources:
- :func:`format_num` is ``format(x, digits, nsmall)`` for a numeric vector (C
  ``formatReal`` + ``scientific``): one common format for all elements, chosen as the fewest
  decimals that show every element to ``digits`` significant digits, unless scientific
  notation is narrower;
- :func:`format_pval` is ``format.pval``; :func:`format_c` is ``formatC(x, digits)``;
- :func:`zapsmall` and :func:`r_round` are R 4.2's ``zapsmall`` and ``round``;
- :func:`print_named` and :func:`print_matrix` lay out what ``print.default`` shows for a
  named vector and a character matrix; :func:`print_coefmat` is ``printCoefmat``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

DBL_EPSILON = float(np.finfo(float).eps)
_LD = np.longdouble
_TBL = [_LD(10) ** k for k in range(23)]
_KP_MAX = 22

#: The legend ``printCoefmat`` prints under a table with significance stars.
SIGNIF_LEGEND = "---\nSignif. codes:  0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1\n"


def _isna(x: float | None) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def r_round(x: float, digits: float = 0) -> float:
    """R 4.x ``round(x, digits)`` (nmath ``fround``).

    Digits is rounded to an integer; of the two candidates floor/ceil(x * 10^d) / 10^d the
    one nearer to x in double arithmetic wins, ties going to the even last digit.
    """
    if _isna(x) or math.isinf(x):
        return x
    d = math.floor(digits + 0.5)
    sgn = -1.0 if x < 0 else 1.0
    x = abs(x)
    if d == 0:
        return sgn * float(np.rint(x))
    if d > 0:
        if x == 0 or math.log10(2) * (0.5 + math.frexp(x)[1] - 1) + d > 15:
            return sgn * x
        p10 = 10.0**d
        x10 = p10 * x
        i10 = math.floor(x10)
        xd, xu = i10 / p10, math.ceil(x10) / p10
        du, dd = xu - x, x - xd
        return sgn * (xu if (du < dd or (du == dd and i10 % 2 == 1)) else xd)
    p10 = 10.0**-d
    return sgn * float(np.rint(x / p10)) * p10


def zapsmall(xs: Sequence[float], digits: int = 7) -> list[float]:
    """R 4.2 ``zapsmall``: round to ``digits - log10(max|x|)`` decimals (not ceiling'd)."""
    ok = [x for x in xs if not _isna(x)]
    if not ok:
        return list(xs)
    mx = max(abs(x) for x in ok)
    d = max(0.0, digits - math.log10(mx)) if mx > 0 else digits
    return [x if _isna(x) else r_round(x, d) for x in xs]


def _scientific(x: float, digits: int) -> tuple[int, int, int, bool]:
    """C ``scientific()``: (neg, kpower, nsig, rounding_widens) for |x| = alpha * 10^kpower."""
    if x == 0.0:
        return 0, 0, 1, False
    neg = 1 if x < 0 else 0
    r = abs(x)
    kp = math.floor(math.log10(r)) - digits + 1
    r_prec = _LD(r)
    if abs(kp) < 10:
        if kp > 0:
            r_prec /= _TBL[kp]
        elif kp < 0:
            r_prec *= _TBL[-kp]
    else:
        r_prec /= _LD(10) ** kp
    if r_prec < _TBL[digits - 1]:
        r_prec *= 10
        kp -= 1
    alpha = float(np.rint(r_prec))
    nsig = digits
    for _ in range(digits):
        alpha /= 10.0
        if alpha == math.floor(alpha):
            nsig -= 1
        else:
            break
    if nsig == 0 and digits > 0:
        nsig = 1
        kp += 1
    kpower = kp + digits - 1
    rgt = min(max(digits - kpower, 0), _KP_MAX)
    fuzz = 0.5 / float(_TBL[rgt])
    widens = 0 < kpower <= _KP_MAX and r < float(_TBL[kpower]) - fuzz
    return neg, kpower, nsig, widens


def format_num(
    xs: Sequence[float | None],
    digits: int = 7,
    nsmall: int = 0,
    sci: bool | None = None,
    na: str = "NA",
    width: int = 0,
) -> list[str]:
    """R's ``format(x, digits = digits, nsmall = nsmall)`` for a numeric vector.

    Returns strings of one common width, right-justified (as ``format`` does). ``sci=False``
    forbids scientific notation (``format(..., scientific = FALSE)``).
    """
    # R prints -0 as 0.
    xs = [x if _isna(x) or x != 0 else 0.0 for x in xs]
    finite = [float(x) for x in xs if not _isna(x) and math.isfinite(float(x))]  # type: ignore[arg-type]
    neg = 0
    mxsl = rgt = mxe = mxns = -(10**9)
    mne = 10**9
    mxl = -(10**9)
    for x in finite:
        neg_i, kpower, nsig, widens = _scientific(x, digits)
        left = kpower + 1
        if widens:
            left -= 1
        sleft = neg_i + (1 if left <= 0 else left)
        right = nsig - left
        neg = max(neg, neg_i)
        rgt = max(rgt, right)
        mxsl = max(mxsl, sleft)
        mxl = max(mxl, left)
        mxe = max(mxe, kpower)
        mne = min(mne, kpower)
        mxns = max(mxns, nsig)
    use_e = False
    d = 0
    e = 1
    if finite:
        if mxl < 0:
            mxsl = 1 + neg
        rgt = max(rgt, 0)
        wf = mxsl + rgt + (rgt != 0)
        e = 2 if (mxe >= 100 or mne <= -99) else 1
        de = mxns - 1
        we = neg + (de > 0) + de + 4 + e
        # Fixed notation unless scientific is strictly narrower (R_print.scipen = 0).
        use_e = wf > we if sci is None else sci
        d = de if use_e else max(rgt, nsmall)
    out = []
    for value in xs:
        if value is None or _isna(value):
            out.append(na)
            continue
        x = float(value)
        if math.isinf(x):
            out.append("Inf" if x > 0 else "-Inf")
        elif use_e:
            s = f"{x:.{d}e}"
            mant, exp = s.split("e")
            sign, num = exp[0], exp[1:].lstrip("0")
            out.append(f"{mant}e{sign}{num.rjust(e + 1, '0')}")
        else:
            out.append(f"{x:.{d}f}")
    w = max([width, *(len(s) for s in out)])
    return [s.rjust(w) for s in out]


def format1(x: float, digits: int = 7) -> str:
    """``format(x, digits)`` for a single number."""
    return format_num([x], digits)[0]


def signif(x: float, digits: int) -> float:
    """R's ``signif(x, digits)`` (nmath ``fprec``): nearbyint(x * 10^e) / 10^e."""
    if x == 0 or not math.isfinite(x):
        return x
    dig = max(1, digits)
    sgn = -1.0 if x < 0 else 1.0
    x = abs(x)
    e10 = dig - 1 - math.floor(math.log10(x))
    if e10 > 0:
        p10 = 10.0**e10
        return sgn * float(np.rint(x * p10)) / p10
    p10 = 10.0**-e10
    return sgn * float(np.rint(x / p10)) * p10


def format_c(x: float, digits: int) -> str:
    """``formatC(x, digits = digits)`` (C ``%.*g``), which R pads to width digits + 1."""
    return f"{x:.{digits}g}".rjust(digits + 1)


def format_pval(pvs: Sequence[float], digits: int, eps: float = DBL_EPSILON) -> list[str]:
    """R's ``format.pval``: fixed and scientific p-values formatted apart, ``<eps`` below eps."""
    is0 = [p < eps for p in pvs]
    out = [""] * len(pvs)
    rest = [i for i, z in enumerate(is0) if not z]
    nc = 0
    if rest:
        expo = [math.floor(math.log10(pvs[i])) if pvs[i] > 0 else -50 for i in rest]
        fix = [ex >= -3 or (ex == -4 and digits > 1) for ex in expo]
        fixp = [i for i, f in zip(rest, fix, strict=True) if f]
        expp = [i for i, f in zip(rest, fix, strict=True) if not f]
        for group in (fixp, expp):
            if group:
                for i, s in zip(group, format_num([pvs[i] for i in group], digits), strict=True):
                    out[i] = s
        nc = max(len(out[i]) for i in rest)
    if any(is0):
        d = max(1, digits - 2)
        if rest:
            if d > 1 and d + 6 > nc:
                d = max(1, nc - 7)
            sep = "" if d == 1 and nc <= 6 else " "
        else:
            sep = "" if d == 1 else " "
        s = "<" + sep + format_num([eps], d)[0]
        for i, z in enumerate(is0):
            if z:
                out[i] = s
    return out


def signif_stars(p: float) -> str:
    """``symnum`` significance code for one p-value."""
    if _isna(p):
        return ""
    for cut, sym in ((0.001, "***"), (0.01, "**"), (0.05, "*"), (0.1, ".")):
        if p <= cut:
            return sym
    return " "


def print_named(values: Sequence[str], names: Sequence[str], gap: int = 1) -> str:
    """``print.default`` of a named vector whose values are already formatted strings.

    Every field gets the common width (max over names and values), right-justified and
    followed by ``gap`` spaces; fields wrap at width 80.
    """
    w = max(len(s) for s in [*values, *names])
    per_line = max(1, 80 // (w + gap))
    lines = []
    for start in range(0, len(values), per_line):
        chunk = slice(start, start + per_line)
        lines.append("".join(n.rjust(w) + " " * gap for n in names[chunk]))
        lines.append("".join(v.rjust(w) + " " * gap for v in values[chunk]))
    return "\n".join(lines) + "\n"


def print_matrix(
    cells: Sequence[Sequence[str]],
    colnames: Sequence[str],
    rownames: Sequence[str],
    right: bool = True,
) -> str:
    """``print.default(m, quote = FALSE, right = right)`` of a character matrix."""
    rw = max([0, *(len(r) for r in rownames)])
    widths = [
        max([len(colnames[j]), *(len(row[j]) for row in cells)]) for j in range(len(colnames))
    ]

    def just(s: str, w: int) -> str:
        return s.rjust(w) if right else s.ljust(w)

    lines = [" " * rw + "".join(" " + just(c, w) for c, w in zip(colnames, widths, strict=True))]
    for rn, row in zip(rownames, cells, strict=True):
        lines.append(
            rn.ljust(rw) + "".join(" " + just(c, w) for c, w in zip(row, widths, strict=True))
        )
    return "\n".join(lines) + "\n"


def print_coefmat(
    rows: Sequence[Sequence[float | None]],
    rownames: Sequence[str],
    colnames: Sequence[str],
    digits: int,
    cs_ind: Sequence[int] = (0, 1),
    tst_ind: Sequence[int] = (2,),
    zap_ind: Sequence[int] = (),
    has_pvalue: bool = True,
    na_print: str = "NA",
    signif_legend: bool = True,
    cells: list[list[str]] | None = None,
) -> str:
    """R's ``printCoefmat``: estimate and SE share one format, rounded to what the smallest
    needs; test statistics rounded to ``dig.tst``; p-values by ``format.pval``; stars.

    ``cells``, when given, receives each row's printed cells (without the stars): what a
    student reads, for the acceptance rule (:mod:`problem_bank.acceptance`)."""
    nr, nc = len(rows), len(colnames)
    cols: list[list[float | None]] = [[rows[i][j] for i in range(nr)] for j in range(nc)]
    for j in zap_ind:  # as R's zapsmall: NA cells stay NA and do not count for the max
        zapped = iter(zapsmall([x for x in cols[j] if x is not None], digits))
        cols[j] = [None if x is None else next(zapped) for x in cols[j]]
    cf: list[list[str]] = [[""] * nc for _ in range(nr)]
    dig_tst = max(1, min(5, digits - 1))
    if cs_ind:
        vals = [cols[j][i] for j in cs_ind for i in range(nr)]
        acs = [abs(v) for v in vals if not _isna(v) and math.isfinite(v) and v != 0]  # type: ignore[arg-type]
        if any(not _isna(v) and math.isfinite(v) for v in vals):  # type: ignore[arg-type]
            # R computes digmin for the smallest and largest |value| and passes both to
            # max(1, digits - digmin): the smallest magnitude decides the decimals kept.
            digmin = [1 + math.floor(math.log10(a)) for a in (min(acs), max(acs))] if acs else [1]
            dec = max(1, *(digits - d for d in digmin))
            rounded = [None if _isna(v) else r_round(v, dec) for v in vals]  # type: ignore[arg-type]
            formatted = format_num(rounded, digits)
            for k, j in enumerate(cs_ind):
                for i in range(nr):
                    cf[i][j] = formatted[k * nr + i]
    for j in tst_ind:
        formatted = format_num(
            [None if _isna(v) else r_round(v, dig_tst) for v in cols[j]],  # type: ignore[arg-type]
            digits,
        )
        for i in range(nr):
            cf[i][j] = formatted[i]
    pcol = nc - 1 if has_pvalue else None
    for j in range(nc):
        if j in cs_ind or j in tst_ind or j == pcol:
            continue
        formatted = format_num(cols[j], digits)
        for i in range(nr):
            cf[i][j] = formatted[i]
    # Values that are not 0 but print as 0 get one digit fewer (printCoefmat's fix-up).
    for j in range(nc):
        if j in tst_ind or j == pcol:
            continue
        bad = [
            i
            for i in range(nr)
            if not _isna(cols[j][i]) and cols[j][i] != 0 and _as_float(cf[i][j]) == 0
        ]
        if bad:
            fixed = format_num([cols[j][i] for i in bad], max(1, digits - 1))
            for i, s in zip(bad, fixed, strict=True):
                cf[i][j] = s
    for j in range(nc):
        for i in range(nr):
            if _isna(cols[j][i]):
                cf[i][j] = na_print
    stars = False
    if pcol is not None:
        ok = [i for i in range(nr) if not _isna(cols[pcol][i])]
        if ok:
            pv = [float(cols[pcol][i]) for i in ok]  # type: ignore[arg-type]
            for i, s in zip(ok, format_pval(pv, dig_tst), strict=True):
                cf[i][pcol] = s
            stars = any(p < 0.1 for p in pv)
    if cells is not None:
        cells.extend([c.strip() for c in row] for row in cf)
    names = list(colnames)
    if stars:
        assert pcol is not None
        codes = [signif_stars(cols[pcol][i]) for i in range(nr)]  # type: ignore[arg-type]
        w = max(len(c) for c in codes)
        for i in range(nr):
            cf[i].append(codes[i].ljust(w))
        names.append("")
    text = print_matrix(cf, names, rownames, right=True)
    if stars and signif_legend:
        text += SIGNIF_LEGEND
    return text


#: What a printer showed of each quantity: leaf key (``coef:Length``, ``zero_ratio``...,
#: as :mod:`problem_bank.expressions` names leaves, without the model) -> printed texts.
Printed = dict[str, tuple[str, ...]]
#: A Printed key starting with this names its own model (``@nb:aic``), not the block's.
OTHER_MODEL = "@"


def record(printed: Printed | None, key: str, text: str) -> None:
    """Note that quantity ``key`` was printed as ``text`` (a quantity may be printed twice)."""
    if printed is not None:
        printed[key] = (*printed.get(key, ()), text.strip())


def _as_float(s: str) -> float:
    try:
        return float(s)
    except ValueError:
        return math.nan
