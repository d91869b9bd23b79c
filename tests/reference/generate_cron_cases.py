#!/usr/bin/env python3
"""Generates tests/reference/cron_cases.jsonl: (expression, start instant, next 5 runs) cases
that coffer's cron engine must match exactly.

The runs come from pyawscron, an independent implementation of AWS cron (pip install
pyawscron==1.0.7; it needs python-dateutil). Every case is also computed by a small
brute-force matcher below that follows AWS's documentation
(https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html).
Where the two disagree, the documentation wins: the case is kept, marked
"known_disagreement" with the reason, and its expected runs are the documented ones.
A disagreement of a kind not listed in KNOWN is an error, so the generator never hides one.

Run from the repository root:  python3 tests/reference/generate_cron_cases.py
"""

import calendar
import datetime as dt
import json
import random
import sys
from importlib import metadata

from pyawscron import AWSCron

UTC = dt.timezone.utc
SEED = 20261126
OUT = "tests/reference/cron_cases.jsonl"

# The AWS documentation's own examples (EventBridge cron page and AWS Backup's classic rule).
DOC_EXAMPLES = [
    "0 10 * * ? *",
    "15 12 * * ? *",
    "0 18 ? * MON-FRI *",
    "0 8 1 * ? *",
    "0/15 * * * ? *",
    "0/10 * ? * MON-FRI *",
    "0/5 8-17 ? * MON-FRI *",
    "0/30 20-2 ? * MON-FRI *",
    "0 12 * * ? *",
    "5,35 14 * * ? *",
    "15 10 ? * 6L 2019-2022",
    "0 6 ? * 7#1 *",
    "0 5 ? * * *",
    "0 5 1 * ? *",
    "0 0 ? * 3#2 *",
]

MINUTES = ["0", "15", "30", "45", "0/15", "5/20", "10-20", "0,30", "*/10", "59", "1/10", "7", "0-5"]
HOURS = ["0", "6", "12", "23", "8-17", "0/6", "1,13", "*", "0/12", "3", "9-11,14"]
DOM = ["*", "1", "15", "L", "LW", "15W", "1W", "31W", "L-2", "1,15", "10-20", "1/10", "28-31", "31", "29", "*/7"]
MONTHS = ["*", "1", "JAN", "FEB", "FEB-APR", "6-8", "1/3", "NOV,DEC", "*/2", "JUL", "*", "*"]
DOW = ["MON-FRI", "1", "SUN", "7#1", "2#3", "4#5", "6L", "1,7", "SAT,SUN", "2-6", "MON,WED,FRI", "3#2", "1L", "*"]
# Features pyawscron does not implement as AWS documents them; each generated expression has
# one of them with a small probability, so most cases come from the reference as it is.
WRAPPING = {0: ["45-15/15", "50-10"], 1: ["20-2", "22-4/2"], 3: ["DEC-FEB", "NOV-JAN"], 4: ["FRI-MON", "SAT-MON"]}
YEARS = ["*", "*", "*", "2026-2030", "2027", "2025/2", "2026,2028", "2024-2040"]

MONTH_NAMES = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
DAY_NAMES = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]


# ------------------------------------------------------------------------------------------
# Documented semantics, brute force: walk day by day and test each field.

def value(text, names, lo):
    t = text.upper()
    if t in names:
        return names.index(t) + lo
    return int(t)


def plain(text, lo, hi, names=()):
    out = set()
    for item in text.split(","):
        step = None
        if "/" in item:
            item, step = item.split("/")
            step = int(step)
        if item == "*":
            a, b = lo, hi
        elif "-" in item:
            a, b = (value(x, names, lo if names is MONTH_NAMES else 1) for x in item.split("-"))
        else:
            a = value(item, names, lo if names is MONTH_NAMES else 1)
            b = hi if step else a
        span = b - a if a <= b else hi - a + 1 + b - lo  # ranges wrap around
        k = 0
        while k <= span:
            v = a + k
            if v > hi:
                v -= hi - lo + 1
            out.add(v)
            k += step or 1
    return out


def aws_weekday(d):  # 1 = Sunday
    return (d.weekday() + 1) % 7 + 1


def day_matches(dom, dow, d):
    last = calendar.monthrange(d.year, d.month)[1]
    if dom != "?":
        u = dom.upper()
        if u == "L":
            return d.day == last
        if u.startswith("L-"):
            return d.day == last - int(u[2:])
        if u == "LW":
            x = last
            while aws_weekday(dt.date(d.year, d.month, x)) in (1, 7):
                x -= 1
            return d.day == x
        if u.endswith("W"):
            n = int(u[:-1])
            if n > last:
                return False
            wd = aws_weekday(dt.date(d.year, d.month, n))
            if wd == 7:
                target = n - 1 if n > 1 else n + 2
            elif wd == 1:
                target = n + 1 if n < last else n - 2
            else:
                target = n
            return d.day == target
        return d.day in plain(dom, 1, 31)
    u = dow.upper()
    if "#" in u:
        w, k = u.split("#")
        w = value(w, DAY_NAMES, 1)
        return aws_weekday(d) == w and (d.day - 1) // 7 + 1 == int(k)
    if u == "L":
        return aws_weekday(d) == 7  # a lone L is the last day of the week
    if u.endswith("L"):
        w = value(u[:-1], DAY_NAMES, 1)
        return aws_weekday(d) == w and d.day + 7 > last
    return aws_weekday(d) in plain(dow, 1, 7, DAY_NAMES)


def documented_next(expr, start, n):
    mi, ho, dom, mo, dow, yr = expr.split()
    minutes = sorted(plain(mi, 0, 59))
    hours = sorted(plain(ho, 0, 23))
    months = plain(mo, 1, 12, MONTH_NAMES)
    years = plain(yr, 1970, 2199)
    times = [h * 60 + m for h in hours for m in minutes]
    out = []
    cursor = start
    day = start.date()
    while len(out) < n and day.year <= max(years):
        if day.year in years and day.month in months and day_matches(dom, dow, day):
            for t in times:
                at = dt.datetime(day.year, day.month, day.day, t // 60, t % 60, tzinfo=UTC)
                if at > cursor:
                    out.append(at)
                    cursor = at
                    if len(out) == n:
                        break
        day += dt.timedelta(days=1)
    return out


# ------------------------------------------------------------------------------------------

def reference_next(expr, start, n):
    out = []
    cursor = start
    for _ in range(n):
        nxt = AWSCron(expr).occurrence(cursor).next()
        if nxt is None:
            break
        out.append(nxt)
        cursor = nxt
    return out


def classify(expr):
    """Why pyawscron departs from the documentation for this expression, if a known reason."""
    mi, ho, dom, mo, dow, yr = expr.split()
    reasons = []
    def wraps(field, names=()):
        for item in field.split(","):
            base = item.split("/")[0]
            if "-" in base and not base.upper().startswith("L"):
                a, b = base.split("-")
                lo = 1 if names else 0
                if value(a, names, lo) > value(b, names, lo):
                    return True
        return False
    if wraps(mi) or wraps(ho) or wraps(mo, MONTH_NAMES) or (dow != "?" and "#" not in dow and not dow.upper().endswith("L") and wraps(dow, DAY_NAMES)):
        reasons.append("ranges that wrap around (e.g. 20-2, as in AWS's own example 'cron(0/30 20-2 ? * MON-FRI *)') select both ends; pyawscron treats them as empty")
    if dom.upper() == "LW":
        reasons.append("LW is the last weekday of the month; pyawscron cannot parse it")
    if dow.upper() == "L":
        reasons.append("a lone L in day-of-week is the last day of the week (Saturday); pyawscron matches no day")
    return reasons


def main():
    rng = random.Random(SEED)
    exprs = list(DOC_EXAMPLES)
    while len(exprs) < 470:
        use_dom = rng.random() < 0.5
        fields = [
            rng.choice(MINUTES), rng.choice(HOURS),
            rng.choice(DOM) if use_dom else "?",
            rng.choice(MONTHS),
            "?" if use_dom else rng.choice(DOW),
            rng.choice(YEARS),
        ]
        roll = rng.random()
        if roll < 0.06:
            i = rng.choice([0, 1, 3] + ([] if use_dom else [4]))
            fields[i] = rng.choice(WRAPPING[i])
        elif roll < 0.08 and use_dom:
            fields[2] = "LW"
        elif roll < 0.10 and not use_dom:
            fields[4] = "L"
        e = " ".join(fields)
        if e not in exprs:
            exprs.append(e)

    starts_fixed = [
        dt.datetime(2026, 11, 26, 7, 18, 43, tzinfo=UTC),
        dt.datetime(2028, 2, 28, 23, 59, 0, tzinfo=UTC),
        dt.datetime(2026, 12, 31, 23, 30, 59, tzinfo=UTC),
    ]
    cases = []
    disagreements = 0
    for expr in exprs:
        starts = list(starts_fixed) + [
            dt.datetime(2024, 1, 1, tzinfo=UTC) + dt.timedelta(seconds=rng.randrange(0, 9 * 365 * 86400)) for _ in range(2)
        ]
        for start in starts:
            expected = documented_next(expr, start, 5)
            try:
                ref = reference_next(expr, start, 5)
                ref_error = None
            except Exception as e:  # pyawscron gives up or crashes
                ref, ref_error = None, f"{type(e).__name__}: {e}"
            case = {
                "expression": f"cron({expr})",
                "start": start.isoformat().replace("+00:00", "Z"),
                "next": [t.isoformat().replace("+00:00", "Z") for t in expected],
            }
            if ref == expected:
                case["source"] = "pyawscron"
            else:
                reasons = classify(expr)
                if not reasons and ref_error and "iter" in ref_error:
                    reasons = ["pyawscron gives up after 10 search steps for schedules this sparse"]
                if not reasons and ref_error and "day is out of range for month" in ref_error:
                    reasons = ["a listed day-of-month that the month lacks (e.g. 31 in November) is skipped; pyawscron raises ValueError"]
                if not reasons:
                    print(f"unexplained disagreement: {expr} from {start}: pyawscron {ref or ref_error} documented {expected}", file=sys.stderr)
                    sys.exit(1)
                case["source"] = "documented"
                case["known_disagreement"] = "; ".join(reasons)
                case["pyawscron"] = ref_error or [t.isoformat().replace("+00:00", "Z") for t in ref]
                disagreements += 1
            cases.append(case)

    header = {
        "generator": "tests/reference/generate_cron_cases.py",
        "reference": "pyawscron",
        "reference_version": metadata.version("pyawscron"),
        "python_dateutil_version": metadata.version("python-dateutil"),
        "python": sys.version.split()[0],
        "seed": SEED,
        "cases": len(cases),
        "known_disagreements": disagreements,
    }
    with open(OUT, "w") as f:
        f.write(json.dumps(header) + "\n")
        for c in cases:
            f.write(json.dumps(c) + "\n")
    print(f"wrote {len(cases)} cases ({disagreements} known disagreements) to {OUT}")


if __name__ == "__main__":
    main()
