#!/usr/bin/env python3
"""Cross-check: print HuggingFace BertTokenizerLegacy ids per line, to diff against `sift tokenize`.
Usage: python3 tools/hf_tokenize_lines.py VOCAB TEXTFILE [cased]
(the last printed line is for the empty string after the final newline)."""
import sys, json
from transformers.models.bert.tokenization_bert_legacy import BertTokenizerLegacy
cased = len(sys.argv) > 3
t = BertTokenizerLegacy(sys.argv[1], do_lower_case=not cased)
with open(sys.argv[2], encoding="utf-8", errors="replace", newline="\n") as f:
    for line in f.read().split("\n"):
        print(json.dumps(t.encode(line, add_special_tokens=False), separators=(",", ":")))
