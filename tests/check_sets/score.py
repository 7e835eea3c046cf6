"""Score a checker on the answer sets (issue 25's counts): ``python3 tests/check_sets/score.py``
with ``PYTHONPATH`` naming the checkout to score. Works with the checker before issue 25 (the
function ``symderiv.check``, UTF-8 only) and after it (``symderiv.check_answers``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run(check, decode, model: str, data: bytes):
    """The report, or the kind of failure: 'refused' (bad input) or 'internal' (a bug)."""
    import symderiv
    try:
        return check(model, decode(data))
    except (symderiv.SymderivError, UnicodeDecodeError) as e:
        return ("refused", str(e)[:120])
    except Exception as e:  # noqa: BLE001 - what the score counts
        return ("internal", f"{type(e).__name__}: {e}"[:120])


def score(check, decode, verbose: bool = False) -> dict:
    manifest = json.loads((HERE / "sets.json").read_text(encoding="utf-8"))
    c = dict(sets=0, right_sets=0, slips=0, found=0, diagnosed=0, diagnosis_right=0, diagnosis_reproduces=0,
             false_alarms=0, right_sets_with_false_alarm=0, refused=0, internal=0, unread_lines=0)
    problems = []
    for entry in manifest:
        c["sets"] += 1
        data = (HERE / "sets" / f"{entry['id']}.txt").read_bytes()
        report = run(check, decode, entry["model"], data)
        slip = entry["slip"]
        if slip:
            c["slips"] += 1
        else:
            c["right_sets"] += 1
        if isinstance(report, tuple):
            c[report[0]] += 1
            problems.append((entry["id"], report))
            continue
        alarms = 0
        for line in report.lines:
            verdict = str(line.verdict)
            if verdict == "unread":
                c["unread_lines"] += 1
                problems.append((entry["id"], line.line, "unread", getattr(line, "message", "")))
                continue
            on_slip = slip is not None and line.line == slip["line"]
            if on_slip:
                continue
            bad = verdict == "wrong" or (slip is None and verdict == "carried") or \
                (slip is not None and line.line < slip["line"] and verdict != "right" and verdict != "rounded")
            if bad:
                alarms += 1
                problems.append((entry["id"], line.line, line.name, line.written, verdict))
        c["false_alarms"] += alarms
        if slip is None and alarms:
            c["right_sets_with_false_alarm"] += 1
        if slip is not None:
            on = [x for x in report.lines if x.line == slip["line"]]
            if any(str(x.verdict) == "wrong" for x in on):
                c["found"] += 1
                diagnosed = [x for x in on if x.diagnoses]
                if diagnosed:
                    c["diagnosed"] += 1
                    kinds = {d.kind for x in diagnosed for d in x.diagnoses}
                    if slip["kind"] in kinds:
                        c["diagnosis_right"] += 1
                    else:
                        problems.append((entry["id"], "diagnosis", slip["kind"], sorted(kinds)))
                    if all(_reproduces(x, d) for x in diagnosed for d in x.diagnoses):
                        c["diagnosis_reproduces"] += 1
                else:
                    problems.append((entry["id"], "no diagnosis", slip["kind"]))
            else:
                problems.append((entry["id"], "slip not found", slip, [(x.name, str(x.verdict)) for x in on]))
    if verbose:
        for p in problems:
            print(*p)
    return c


def _reproduces(line, d) -> bool:
    """The diagnosis's value is the written number within one unit of its last digit."""
    from decimal import Decimal
    w = Decimal(line.written.replace("−", "-"))
    unit = Decimal(1).scaleb(w.as_tuple().exponent) if "." in line.written else Decimal(0)
    return abs(Decimal(str(float(d.value))) - w) <= unit * Decimal("1.000001") + Decimal("1e-12")


def main() -> int:
    import symderiv
    if hasattr(symderiv, "check_answers"):
        from symderiv.check import decode
        check = symderiv.check_answers
    else:
        check, decode = symderiv.check, lambda data: data.decode("utf-8")
    print(json.dumps(score(check, decode, verbose="-v" in sys.argv), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
