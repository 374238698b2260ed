# Sourced by launch/experiment.sh and launch/per_sample.sh: a run's metrics log is written plain
# (STEM.jsonl) while it runs and compressed (STEM.jsonl.gz, `gzip -9n`: about 8× smaller, and what
# tools/metrics_io.py reads) once it has finished, so the committed logs stay small.

# metrics_finished STEM: true when the run whose log is STEM.jsonl[.gz] ended with its final evaluation.
metrics_finished() {
    [ -f "$1.jsonl.gz" ] && zgrep -q '"final":true' "$1.jsonl.gz" && return 0
    [ -f "$1.jsonl" ] && grep -q '"final":true' "$1.jsonl"
}

# metrics_compress STEM: replaces a finished run's STEM.jsonl by STEM.jsonl.gz.
metrics_compress() {
    [ -f "$1.jsonl" ] && gzip -9nf "$1.jsonl"
    return 0
}

# metrics_remove STEM: deletes a run's log in either form (a run starting afresh).
metrics_remove() { rm -f "$1.jsonl" "$1.jsonl.gz"; }
