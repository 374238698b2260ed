"""The one reader of `sift train --metrics` logs, plain (.jsonl) or gzip-compressed (.jsonl.gz), and of the
report settings each experiment folder keeps (report.json): the report tools, tools/thin_metrics.py,
tools/ddp_compare.py, tools/cluster_bench_report.py and the Python in launch/ read metrics through it.
Standard library only.

Committed logs are thinned and compressed (tools/thin_metrics.py); a run still being written is plain.
"""
import glob, gzip, json, os, re

SUFFIXES = (".jsonl.gz", ".jsonl")


def stem(path):
    """File name without .jsonl or .jsonl.gz."""
    name = os.path.basename(path)
    for s in SUFFIXES:
        if name.endswith(s):
            return name[:-len(s)]
    return name


def metrics_files(directory, pattern="*"):
    """{stem: path} of the metrics logs in directory whose stem matches the glob pattern; a plain log wins
    over a compressed one of the same stem (it is the newer: a resumed run writes plain)."""
    found = {}
    for suffix in reversed(SUFFIXES):  # .jsonl last, so it replaces a .jsonl.gz of the same stem
        for path in sorted(glob.glob(os.path.join(directory, pattern + suffix))):
            found[stem(path)] = path
    return dict(sorted(found.items()))


def metrics_path(directory, name):
    """The log of run `name` in directory: NAME.jsonl when present (a run being written), else NAME.jsonl.gz
    (a finished, compressed one); the .jsonl path when neither exists."""
    plain = os.path.join(directory, name + ".jsonl")
    if os.path.exists(plain) or not os.path.exists(plain + ".gz"):
        return plain
    return plain + ".gz"


def read_lines(path):
    """The non-empty lines of a metrics log (plain or .gz), stripped."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as fh:
        return [line.strip() for line in fh if line.strip()]


def parse(path):
    """(rows, unparseable): the JSON objects of a metrics log and how many lines were not JSON."""
    rows, bad = [], 0
    for line in read_lines(path):
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            bad += 1
    return rows, bad


def read_rows(path):
    """The JSON objects of a metrics log, skipping a torn last line."""
    return parse(path)[0]


def step_rows(path):
    """The step rows (those with per-phase "times") of a metrics log, in step order."""
    return sorted((r for r in read_rows(path) if "times" in r), key=lambda r: r["step"])


def rows_by_step(path):
    """(by_step, final): a metrics log's rows keyed by step, a resumed run's later copy of a step replacing
    the first, and its closing row (None while the run is unfinished)."""
    by_step, final = {}, None
    for r in read_rows(path):
        if r.get("final"):
            final = r
        elif "step" in r:
            by_step[r["step"]] = r
    return by_step, final


def settings(directory, given, defaults=None):
    """The report settings of an experiment folder: the values given on the command line, else those saved
    in directory/report.json by the run that wrote it, else defaults; saved back so that a later run of the
    report (e.g. tools/regenerate_reports.sh) reproduces the same header."""
    path = os.path.join(directory, "report.json")
    saved = json.load(open(path)) if os.path.exists(path) else {}
    merged = dict(defaults or {})
    merged.update(saved)
    merged.update({k: v for k, v in given.items() if v is not None})
    with open(path, "w") as fh:
        json.dump(merged, fh, indent=1, sort_keys=True, ensure_ascii=False)
        fh.write("\n")
    return merged


def update_index(index_path, key, table_lines):
    """Replaces the lines between `<!-- generated: KEY -->` and `<!-- /generated -->` in index_path (e.g.
    docs/EXPERIMENTS.md) with table_lines; does nothing when the file or the marker is absent."""
    if not index_path or not os.path.exists(index_path):
        return False
    text = open(index_path, encoding="utf-8").read()
    pattern = re.compile(r"(<!-- generated: " + re.escape(key) + r" -->\n)(.*?)(<!-- /generated -->)", re.S)
    if not pattern.search(text):
        return False
    text = pattern.sub(lambda m: m.group(1) + "\n".join(table_lines) + "\n" + m.group(3), text)
    open(index_path, "w", encoding="utf-8").write(text)
    return True


def crossing(evals, target, index, higher_is_better):
    """The first (step, clock) at which evals[i][index] reaches target (≥ it, or ≤ it for a loss), interpolated
    linearly between the evaluations around the crossing; None if never. Each evaluation is a tuple
    (step, clock s, ...) with the compared value at `index`."""
    prev = None
    for e in evals:
        if (e[index] >= target) if higher_is_better else (e[index] <= target):
            if prev is None or e[index] == prev[index]:
                return e[0], e[1]
            t = (target - prev[index]) / (e[index] - prev[index])
            return prev[0] + t * (e[0] - prev[0]), prev[1] + t * (e[1] - prev[1])
        prev = e
    return None
