#!/usr/bin/env python3
"""Score triaged's verdicts against the labelled inquiries.

Usage: accuracy.py [--blind] INQUIRIES_DIR RESULTS_FILE

RESULTS_FILE has one line per message: "NAME<TAB>JSON" where JSON is the
output of `triaged classify --json`, or "NAME<TAB>ERROR: why". Each NAME has
a NAME.expect in INQUIRIES_DIR (see its README). Prints accuracy per
category, the tag accuracy, a confusion table and every miss; exits 1 on
any crisis miss, any error, or any figure below INQUIRIES_DIR/accuracy.floor,
else 0.

An "acceptable: crisis" line in a .expect names a verdict that counts as
right besides the category: the design allows a crisis verdict on explicit
denials, long-past history and grief about someone else's suicide. The
strict figure, which counts those verdicts as wrong, is printed too.

With --summary (the training set in a report) only the aggregates too.
With --record (after a rules change was scored) only the aggregates, and
INQUIRIES_DIR/accuracy.floor is rewritten at the measured figures (a
tenth of a point below each, at most 99.9), its comments kept: the
figures a later change must not lower.
With --blind (a validation set the rules must never be tuned on) only
aggregates are printed: per-category figures, the confusion table, crisis
recall and how many non-inquiries would get a reply; never a message's
name, so whoever edits rules cannot learn the set's texts. A crisis miss
then fails only through the crisis floor.
"""
import json
import os
import sys


def read_expect(path):
    exp = {"category": None, "tags": [], "notags": [], "acceptable": []}
    with open(path, encoding="utf-8") as fp:
        for n, line in enumerate(fp, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            key, sep, val = line.partition(":")
            key = key.strip()
            if not sep or key not in exp:
                raise SystemExit("%s:%d: expected category:, tags:, "
                                 "notags: or acceptable:" % (path, n))
            if key == "category":
                exp[key] = val.strip()
            else:
                exp[key] += val.split()
    if not exp["category"]:
        raise SystemExit("%s: no category" % path)
    return exp


def read_floor(path):
    floor = {}
    with open(path, encoding="utf-8") as fp:
        for n, line in enumerate(fp, 1):
            f = line.split("#", 1)[0].split()
            if not f:
                continue
            if len(f) != 3:
                raise SystemExit("%s:%d: want CATEGORY CAT%% TAG%%" %
                                 (path, n))
            floor[f[0]] = (float(f[1]), float(f[2]))
    return floor


def pct(a, b):
    return 100.0 * a / b if b else 100.0


def floor_of(a, b):
    # Cut to a tenth, then a tenth below: printing's rounding never fails
    # the very run that recorded it; 100% records as 99.9.
    return max(0.0, min(99.9, int(pct(a, b) * 10 + 1e-6) / 10.0 - 0.1))


def write_floor(path, cats, stats):
    """Rewrite path at the measured figures, keeping its comments."""
    head = []
    if os.path.exists(path):
        with open(path, encoding="utf-8") as fp:
            head = [line.rstrip("\n") for line in fp
                    if not line.split("#", 1)[0].strip()]
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fp:
        for line in head:
            fp.write(line + "\n")
        for c in cats:
            n, ok, tok = stats[c]
            fp.write("%s\t\t%.1f\t\t%.1f\n" % (c, floor_of(ok, n),
                                                floor_of(tok, n)))
    os.replace(tmp, path)


def main():
    args = sys.argv[1:]
    blind = bool(args) and args[0] in ("--blind", "--summary", "--sample",
                                       "--record")
    summary = bool(args) and args[0] == "--summary"
    sample = bool(args) and args[0] == "--sample"
    record = bool(args) and args[0] == "--record"
    if blind:
        args = args[1:]
    if len(args) != 2:
        raise SystemExit(__doc__)
    idir, results = args
    got, errors = {}, []
    with open(results, encoding="utf-8") as fp:
        for line in fp:
            name, _, rest = line.rstrip("\n").partition("\t")
            if rest.startswith("ERROR"):
                errors.append((name, rest))
                continue
            try:
                got[name] = json.loads(rest)
            except ValueError:
                errors.append((name, "ERROR: output is not JSON"))
    names = sorted(f[:-7] for f in os.listdir(idir) if f.endswith(".expect"))
    if sample:
        # A sample (make valgrind): only what was classified, no floors.
        names = [n for n in names if n in got or any(e[0] == n for e in errors)]
    cats = []           # expected categories, in order of first sight
    order = ["crisis", "substance", "couples", "individual",
             "existing-client", "not-inquiry"]
    answered_wrongly = 0   # non-inquiries that would get a reply
    resources_only = 0     # of those, crisis replies without the new-client
                           # part (the verdict carries the outranked tag)
    crisis_plain = 0       # crisis caught, but marked existing/not-inquiry
    allowed = 0            # right only because "acceptable:" allows it
    stats = {}          # cat -> [n, category ok, tags ok]
    confusion = {}      # (expected, got) -> count
    misses = []
    crisis_misses = []
    for name in names:
        exp = read_expect(os.path.join(idir, name + ".expect"))
        if not os.path.exists(os.path.join(idir, name + ".eml")):
            errors.append((name, "ERROR: .expect without .eml"))
            continue
        if name not in got:
            if not any(e[0] == name for e in errors):
                errors.append((name, "ERROR: no result"))
            continue
        v = got[name]
        cat = exp["category"]
        if cat not in cats:
            cats.append(cat)
        s = stats.setdefault(cat, [0, 0, 0])
        s[0] += 1
        tags = set(v.get("tags", []))
        cat_ok = v.get("category") == cat
        if not cat_ok and v.get("category") in exp["acceptable"]:
            cat_ok = True
            allowed += 1
        missing = [t for t in exp["tags"] if t not in tags]
        extra = [t for t in exp["notags"] if t in tags]
        tag_ok = not missing and not extra
        s[1] += cat_ok
        s[2] += tag_ok
        outranked = v.get("category") == "crisis" and (
            "not-inquiry" in tags or "existing-client" in tags)
        if cat in ("not-inquiry", "existing-client") and v.get("reply"):
            answered_wrongly += 1
            resources_only += outranked
        if cat == "crisis" and cat_ok and outranked:
            crisis_plain += 1
        key = (cat, v.get("category"))
        confusion[key] = confusion.get(key, 0) + 1
        if not cat_ok or not tag_ok:
            why = []
            if not cat_ok:
                why.append("category %s, expected %s" %
                           (v.get("category"), cat))
            if missing:
                why.append("missing tags %s" % " ".join(missing))
            if extra:
                why.append("unwanted tags %s" % " ".join(extra))
            misses.append("  %s: %s (rules: %s)" % (
                name, "; ".join(why), " ".join(v.get("rules", [])) or "-"))
        if cat == "crisis" and not cat_ok:
            crisis_misses.append(name)

    cats.sort(key=lambda c: (order.index(c) if c in order else 99, c))
    allcats = cats + sorted({g for _, g in confusion if g not in cats})
    if record:
        write_floor(os.path.join(idir, "accuracy.floor"), cats, stats)
    floor = read_floor(os.path.join(idir, "accuracy.floor"))
    fails = []
    print("%-12s %5s %9s %7s %9s %7s" % ("category", "n", "category", "floor",
                                          "tags", "floor"))
    tot = [0, 0, 0]
    for c in cats:
        n, ok, tok = stats[c]
        tot = [tot[0] + n, tot[1] + ok, tot[2] + tok]
        fc, ft = floor.get(c, (None, None))
        print("%-12s %5d %8.1f%% %7s %8.1f%% %7s" % (
            c, n, pct(ok, n), "-" if fc is None else "%.1f" % fc,
            pct(tok, n), "-" if ft is None else "%.1f" % ft))
        if fc is None:
            fails.append("no floor for category %s in accuracy.floor" % c)
            continue
        if pct(ok, n) + 1e-9 < fc:
            fails.append("%s: category accuracy %.1f%% is below the floor "
                         "%.1f%%" % (c, pct(ok, n), fc))
        if pct(tok, n) + 1e-9 < ft:
            fails.append("%s: tag accuracy %.1f%% is below the floor %.1f%%"
                         % (c, pct(tok, n), ft))
    print("%-12s %5d %8.1f%% %7s %8.1f%%" % ("all", tot[0], pct(tot[1],
          tot[0]), "", pct(tot[2], tot[0])))
    if allowed:
        print("%-12s %5d %8.1f%%   (%d crisis verdicts the design allows "
              "counted wrong)" % ("all, strict", tot[0],
                                  pct(tot[1] - allowed, tot[0]), allowed))
    for c in floor:
        if c not in stats:
            fails.append("accuracy.floor names %s, which no inquiry "
                         "expects" % c)

    print("\nconfusion (rows: expected, columns: got)")
    w = max(len(c) for c in allcats)
    print(" " * (w + 1) + " ".join("%*s" % (max(len(c), 4), c)
                                   for c in allcats))
    for e in cats:
        print("%-*s " % (w, e) + " ".join(
            "%*s" % (max(len(c), 4), confusion.get((e, c), 0) or ".")
            for c in allcats))
    fp = [n for (e, g), n in confusion.items() if g == "crisis" and e !=
          "crisis"]
    print("\nnot crisis but flagged crisis: %d" % sum(fp))
    if "crisis" in stats:
        print("crisis recall: %d of %d" % (stats["crisis"][1],
                                           stats["crisis"][0]))
    print("non-inquiries and existing clients that would get a reply: %d"
          % answered_wrongly)
    print("  of them the crisis resources alone, without the new-client "
          "part: %d" % resources_only)
    print("  so sent the new-client reply: %d"
          % (answered_wrongly - resources_only))
    if crisis_plain:
        print("crises answered without the new-client part (also read as "
              "a client's or no inquiry): %d" % crisis_plain)
    if sample:
        print("\nsample of %d: %s" % (tot[0], "errors" if errors else "ok"))
        return 1 if errors else 0
    if summary:
        # The training set: aggregates here, every miss in t_accuracy.
        return 1 if fails or errors or crisis_misses else 0
    if blind:
        fails = [f for f in fails if not f.startswith("no floor")]
        if errors:
            fails.append("%d messages could not be classified" %
                         len(errors))
        if fails:
            print("\nFAIL:")
            print("\n".join("  " + f for f in fails))
            return 1
        print("\nok: %d of %d verdicts right (%.1f%%)" % (
            tot[1], tot[0], pct(tot[1], tot[0])))
        return 0
    if misses:
        print("\nmisses:")
        print("\n".join(misses))
    for name, why in errors:
        fails.append("%s: %s" % (name, why))
    for name in crisis_misses:
        fails.append("CRISIS MISSED: %s" % name)
    if tot[0] < 150 and not fails:
        fails.append("only %d labelled inquiries (at least 150)" % tot[0])
    if fails:
        print("\nFAIL:")
        print("\n".join("  " + f for f in fails))
        return 1
    print("\nok: %d of %d verdicts right, no crisis missed, no figure "
          "below its floor" % (tot[1], tot[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
