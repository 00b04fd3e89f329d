#!/usr/bin/env python3
"""Summarize and check Autobahn|Testsuite reports (python3, stdlib only).

Reads autobahn/reports/<combination>/index.json, as written by wstest:

    {agent: {case_id: {"behavior": ..., "behaviorClose": ..., ...}}}

and prints, per combination, a Markdown table of result counts per section
(ready to paste into a README).

Checks (exit status 1 when any fails):

* policy (always, unless --no-policy): every case must have behavior OK
  (INFORMATIONAL only for the cases the suite itself marks informational:
  7.1.6, 7.13.1, 7.13.2) and a closing behavior of OK, INFORMATIONAL or
  UNIMPLEMENTED. In sections 12-13 (permessage-deflate) both must be OK:
  UNIMPLEMENTED there means the testee declined compression, which is a
  failure unless --allow-unimplemented-compression is given.
* --check FILE: the results must equal the expected ones recorded in FILE,
  which maps combination -> case id -> [behavior, behaviorClose]. Every
  difference, every expected case missing from the report and every reported
  case missing from FILE is listed, and a combination FILE does not have
  fails. Expected cases outside --cases/--exclude (same patterns as wstest)
  are not required to be in the report.

--write FILE records the current results of the given combinations in FILE,
keeping the entries of all other combinations.

Examples:
    autobahn/summarize.py                       # every report under autobahn/reports
    autobahn/summarize.py server-std client-std
    autobahn/summarize.py --check autobahn/expected-results.json server-std
    autobahn/summarize.py --write autobahn/expected-results.json server-std
"""

import argparse
import json
import os
import re
import sys
from collections import OrderedDict

HERE = os.path.dirname(os.path.abspath(__file__))

COMBINATIONS = ("server-std", "server-tokio", "server-axum", "server-hyper", "client-std", "client-tokio")

# Column order of the tables; anything else (e.g. NO_CLOSE) counts as FAILED.
BEHAVIORS = ("OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED")
GOOD = ("OK", "INFORMATIONAL")
# Closing behaviors: OK, INFORMATIONAL, UNIMPLEMENTED are fine; FAILED,
# UNCLEAN, WRONG CODE and FAILED BY CLIENT (the client, not the server,
# dropped the TCP connection) are not.
GOOD_CLOSE = ("OK", "INFORMATIONAL", "UNIMPLEMENTED")

SECTION_NAMES = {
    1: "Framing",
    2: "Pings/Pongs",
    3: "Reserved Bits",
    4: "Opcodes",
    5: "Fragmentation",
    6: "UTF-8 Handling",
    7: "Close Handling",
    9: "Limits/Performance",
    10: "Misc",
    12: "Compression (payloads)",
    13: "Compression (parameters)",
}
COMPRESSION_SECTIONS = (12, 13)
# The cases whose result the suite defines as INFORMATIONAL whatever the
# testee does (7.1.6: a large message then a close; 7.13.x: close codes
# outside the registered ranges).
INFORMATIONAL_CASES = ("7.1.6", "7.13.1", "7.13.2")


def case_key(case_id):
    """Natural sort key: '1.1.2' < '1.1.10' < '2.1'."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"[.]", case_id))


def section_of(case_id):
    return int(case_id.split(".", 1)[0])


def compile_patterns(spec):
    """Comma-separated case patterns, matched exactly as wstest does.

    wstest: a pattern containing '*' becomes the regex with '.' escaped and
    '*' -> '.*', matched at the start of the case id (re.match); a pattern
    without '*' names one case exactly.
    """
    pats = []
    for pat in (p.strip() for p in (spec or "").split(",")):
        if not pat:
            continue
        if "*" in pat:
            pats.append(re.compile(pat.replace(".", r"\.").replace("*", ".*")))
        else:
            pats.append(re.compile(re.escape(pat) + r"\Z"))
    return pats


def selected(case_id, include, exclude):
    if include and not any(p.match(case_id) for p in include):
        return False
    return not any(p.match(case_id) for p in exclude)


def load_report(reports_dir, combination, agent=None):
    """Return ({case_id: (behavior, behaviorClose)}, agent) for a combination."""
    path = os.path.join(reports_dir, combination, "index.json")
    with open(path) as f:
        data = json.load(f)
    if not data:
        raise ValueError("%s: no agents in report" % path)
    if agent is None:
        if len(data) == 1:
            agent = next(iter(data))
        else:
            agent = "rfc6455-" + combination
    if agent not in data:
        raise ValueError("%s: agent %r not in report (agents: %s)"
                         % (path, agent, ", ".join(sorted(data))))
    results = {cid: (r.get("behavior"), r.get("behaviorClose"))
               for cid, r in data[agent].items()}
    return results, agent


def table(results):
    """Markdown table of behavior counts per section, plus a total row."""
    head = ["Section"] + list(BEHAVIORS) + ["Close not OK", "Total"]
    rows = []
    sections = sorted({section_of(c) for c in results})
    totals = [0] * (len(BEHAVIORS) + 2)
    for sec in sections:
        counts = [0] * (len(BEHAVIORS) + 2)
        for cid, (beh, beh_close) in results.items():
            if section_of(cid) != sec:
                continue
            idx = BEHAVIORS.index(beh) if beh in BEHAVIORS else BEHAVIORS.index("FAILED")
            counts[idx] += 1
            if beh_close not in GOOD_CLOSE:
                counts[len(BEHAVIORS)] += 1
            counts[-1] += 1
        totals = [a + b for a, b in zip(totals, counts)]
        name = ("%d %s" % (sec, SECTION_NAMES.get(sec, ""))).rstrip()
        rows.append([name] + [str(n) for n in counts])
    rows.append(["**Total**"] + ["**%d**" % n for n in totals])
    lines = ["| " + " | ".join(head) + " |",
             "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def policy_violations(results, require_compression=True):
    bad = []
    for cid in sorted(results, key=case_key):
        beh, beh_close = results[cid]
        if section_of(cid) in COMPRESSION_SECTIONS:
            if beh == "UNIMPLEMENTED" and not require_compression:
                continue
            good = beh == "OK" and beh_close == "OK"
        elif beh == "INFORMATIONAL":
            good = cid in INFORMATIONAL_CASES and beh_close in GOOD_CLOSE
        else:
            good = beh in GOOD and beh_close in GOOD_CLOSE
        if not good:
            bad.append("%s: behavior %s, close %s" % (cid, beh, beh_close))
    return bad


def check_expected(results, expected, include, exclude):
    problems = []
    for cid in sorted(set(results) | set(expected), key=case_key):
        if cid not in results:
            if selected(cid, include, exclude):
                problems.append("%s: expected %s, missing from report"
                                % (cid, list(expected[cid])))
        elif cid not in expected:
            problems.append("%s: got %s, not in expected results"
                            % (cid, list(results[cid])))
        elif list(results[cid]) != list(expected[cid]):
            problems.append("%s: expected %s, got %s"
                            % (cid, list(expected[cid]), list(results[cid])))
    return problems


def dump_expected(data):
    """JSON text with one case per line, keys in natural order (diff-friendly)."""
    out = ["{"]
    combos = sorted(data)
    for i, combo in enumerate(combos):
        cases = data[combo]
        out.append("  %s: {" % json.dumps(combo))
        keys = sorted(cases, key=case_key)
        for j, cid in enumerate(keys):
            out.append("    %s: %s%s" % (json.dumps(cid), json.dumps(list(cases[cid])),
                                         "," if j < len(keys) - 1 else ""))
        out.append("  }" + ("," if i < len(combos) - 1 else ""))
    out.append("}")
    return "\n".join(out) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("combinations", nargs="*",
                    help="combinations to read (default: every report found)")
    ap.add_argument("--reports-dir", default=os.path.join(HERE, "reports"),
                    help="directory holding <combination>/index.json (default: %(default)s)")
    ap.add_argument("--agent", help="agent to read from the report "
                    "(default: the only one, else rfc6455-<combination>)")
    ap.add_argument("--check", metavar="FILE", help="compare with expected results")
    ap.add_argument("--write", metavar="FILE", help="record current results as expected")
    ap.add_argument("--cases", default=os.environ.get("AUTOBAHN_CASES", ""),
                    help="comma-separated case patterns that were run; expected cases "
                         "outside them may be absent (default: $AUTOBAHN_CASES or all)")
    ap.add_argument("--exclude", default=os.environ.get("AUTOBAHN_EXCLUDE", ""),
                    help="comma-separated case patterns that were excluded "
                         "(default: $AUTOBAHN_EXCLUDE)")
    ap.add_argument("--allow-unimplemented-compression", dest="require_compression",
                    action="store_false",
                    help="tolerate UNIMPLEMENTED in sections 12-13 (a testee without "
                         "permessage-deflate); by default it is a failure")
    ap.add_argument("--require-compression", dest="require_compression",
                    action="store_true", help="the default; kept for old scripts")
    ap.add_argument("--no-policy", action="store_true", help="skip the policy check")
    args = ap.parse_args(argv)

    combos = args.combinations
    if not combos:
        combos = sorted(d for d in os.listdir(args.reports_dir)
                        if os.path.isfile(os.path.join(args.reports_dir, d, "index.json"))) \
            if os.path.isdir(args.reports_dir) else []
        if not combos:
            print("no reports found under %s" % args.reports_dir, file=sys.stderr)
            return 2

    reports = OrderedDict()
    for combo in combos:
        try:
            reports[combo] = load_report(args.reports_dir, combo, args.agent)
        except (OSError, ValueError) as e:
            print("error: %s: %s" % (combo, e), file=sys.stderr)
            return 2

    # --- tables ---------------------------------------------------------------
    for combo, (results, agent) in reports.items():
        print("### %s (agent `%s`, %d cases)\n" % (combo, agent, len(results)))
        print(table(results))
        print()
    if len(reports) > 1:
        print("### Overview\n")
        print("| Combination | " + " | ".join(BEHAVIORS) + " | Total |")
        print("|---|" + "---:|" * (len(BEHAVIORS) + 1))
        for combo, (results, _) in reports.items():
            counts = [sum(1 for b, _ in results.values()
                          if (b if b in BEHAVIORS else "FAILED") == beh) for beh in BEHAVIORS]
            print("| %s | %s | %d |" % (combo, " | ".join(map(str, counts)), len(results)))
        print()

    failed = False

    # --- policy ---------------------------------------------------------------
    if not args.no_policy:
        for combo, (results, _) in reports.items():
            bad = policy_violations(results, args.require_compression)
            if bad:
                failed = True
                print("POLICY FAIL %s: %d case(s) not OK%s:"
                      % (combo, len(bad), "" if args.require_compression
                         else " (UNIMPLEMENTED allowed in 12-13)"))
                for line in bad:
                    print("  " + line)
            else:
                print("policy OK   %s" % combo)

    # --- expected results -----------------------------------------------------
    if args.check:
        with open(args.check) as f:
            expected_all = json.load(f)
        include, exclude = compile_patterns(args.cases), compile_patterns(args.exclude)
        for combo, (results, _) in reports.items():
            if combo not in expected_all:
                failed = True
                print("CHECK FAIL  %s: no expected results in %s (record them with "
                      "--write)" % (combo, args.check))
                continue
            problems = check_expected(results, expected_all[combo], include, exclude)
            if problems:
                failed = True
                print("CHECK FAIL  %s: %d case(s) differ from %s:"
                      % (combo, len(problems), args.check))
                for line in problems:
                    print("  " + line)
            else:
                print("expected OK %s (%d cases match %s)" % (combo, len(results), args.check))

    if args.write:
        data = {}
        if os.path.exists(args.write):
            with open(args.write) as f:
                data = json.load(f)
        for combo, (results, _) in reports.items():
            data[combo] = {cid: list(v) for cid, v in results.items()}
        tmp = args.write + ".tmp"
        with open(tmp, "w") as f:
            f.write(dump_expected(data))
        os.replace(tmp, args.write)
        print("wrote expected results for %s to %s" % (", ".join(reports), args.write))

    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
