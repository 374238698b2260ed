#!/usr/bin/env python3
"""Prints the HuggingFace BertTokenizer ids that Tests/DataTests/TokenizerReferenceTests.swift pastes in.

Run once by hand:  pip install transformers && python3 tools/hf_tokenizer_reference.py
(transformers 5.24.0; the slow Python tokenizer is `BertTokenizerLegacy`, the default
`BertTokenizer` is the Rust-backed one; both are printed and must agree on these strings).
"""
import json, os, string, sys, tempfile

VOCAB = (["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
         + list(string.ascii_lowercase) + ["##" + c for c in string.ascii_lowercase]
         + list("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
         + list(".,!?'\"-()$+^=~`|{}[]:;/\\*&%#@<>_")
         + ["hello", "world", "Hello", "World", "un", "##aff", "##able", "runn", "##ing", "cafe", "café", "Café",
            "naive", "na", "##ive", "resume", "##s", "中", "国", "\u8c48", "ο", "##δ", "##ο", "##ς", "##σ", "δ", "σ", "ς",
            "¿", "¡", "—", "«", "»", "‘", "’", "…", "istanbul", "zero", "##width", "ﬁ", "🙂", "5", "00", "##0", "3", "2",
            "14", "é", "##é", "ü", "##ü", "über", "don", "t", "##ab", "quoted", "single"])
VOCAB = list(dict.fromkeys(VOCAB))  # keep first occurrence only

CASES = [
    "Hello, World!",
    "Café naïve résumé",
    "中国人 hello中国",
    "a\u0000b\ufffdc\u0007d\tx\ny\r\nz",
    "a" * 100,
    "a" * 101,
    "unaffable running",
    "ΟΔΟΣ ΟΣ. οδος",
    "cafe\u0301 \ufb01 \u00df",
    "hello[MASK]world [SEP] [mask] [CLS]x",
    "\u2028hello\u2029world\u00a0x\u3000y",
    "\u0130stanbul",
    "¿Qué? — «quoted» ‘single’ …",
    "$5.00 + 3^2 = 14 ~ `x` |y| {z} a_b",
    "emoji 🙂 and \U0001d518\U0001d52b\U0001d526",
    "\u200bzero\ufeffwidth",
    "x\uf900y",
    "",
    "   ",
    "U.S.A. don't",
    "über ÜBER",
    "\u0301alone e\u0301\u0301",
]

def swift_str(text):
    out = []
    for ch in text:
        cp = ord(ch)
        if ch == '"' or ch == '\\':
            out.append('\\' + ch)
        elif 0x20 <= cp < 0x7f:
            out.append(ch)
        else:
            out.append("\\u{%x}" % cp)
    return '"' + "".join(out) + '"'


def main():
    from transformers import BertTokenizer
    from transformers.models.bert.tokenization_bert_legacy import BertTokenizerLegacy
    d = tempfile.mkdtemp()
    path = os.path.join(d, "vocab.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(VOCAB) + "\n")
    print("let vocabTokens: [String] = [" + ", ".join(swift_str(t) for t in VOCAB) + "]")
    for cased in (False, True):
        slow = BertTokenizerLegacy(path, do_lower_case=not cased)
        fast = BertTokenizer(path, do_lower_case=not cased)
        print(f"// cased={cased}")
        for text in CASES:
            a = slow.encode(text, add_special_tokens=False)
            b = fast.encode(text, add_special_tokens=False)
            flag = "" if a == b else f"   // FAST DIFFERS: {b}"
            print(f"({swift_str(text)}, {a}),{flag}")

if __name__ == "__main__":
    main()
