#!/usr/bin/env python3
"""By-hand comparison of sift's whole-word masking with HuggingFace's DataCollatorForWholeWordMask.

Usage: wwm_compare.py VOCAB TEXT WWM_MASKS [DRAWS]  (WWM_MASKS: tools/wwm_masks.swift built as its header says;
needs transformers<5, whose DataCollatorForWholeWordMask has the budget rule, and numpy: no torch needed.)
"""
# 1. tokenize a text with HF's BertTokenizer over sift's vocab.txt and cut it into [CLS] 62 pieces [SEP] sequences;
# 2. mask each sequence DRAWS times with HF's collator (numpy path) and with sift (harness over the same ids);
# 3. infer each side's words from the draws (two adjacent pieces are one word iff never masked apart) and
#    compare the boundaries, and compare the masked share of the non-special tokens.
import json, random, subprocess, sys
import numpy as np
import transformers
from transformers import BertTokenizer, DataCollatorForWholeWordMask
print("transformers", transformers.__version__)

VOCAB, TEXT, HARNESS = sys.argv[1:4]
DRAWS = int(sys.argv[4]) if len(sys.argv) > 4 else 300
text = open(TEXT).read()
tok = BertTokenizer(VOCAB, do_lower_case=True)
ids = tok.convert_tokens_to_ids(tok.tokenize(text))
L = 62
seqs = [[tok.cls_token_id] + ids[i:i + L] + [tok.sep_token_id] for i in range(0, len(ids) - L, L)][:60]
json.dump(seqs, open('seqs.json', 'w'))
subprocess.run([HARNESS, VOCAB, 'seqs.json', str(DRAWS), 'sift_masks.json'], check=True)
sift = json.load(open('sift_masks.json'))

coll = DataCollatorForWholeWordMask(tok, mlm_probability=0.15, return_tensors='np')
hf = []
for s in seqs:
    draws = []
    for d in range(DRAWS):
        random.seed(d); np.random.seed(d)
        batch = coll([{'input_ids': s}])
        draws.append([int(p) for p in np.nonzero(batch['labels'][0] != -100)[0]])
    hf.append(draws)

special = set(tok.all_special_ids)
def boundaries(draws, s):
    """Adjacent non-special pairs (p, p+1) ever masked apart -> a boundary; never apart and masked together -> same word."""
    together, apart = set(), set()
    for m in draws:
        ms = set(m)
        for p in range(len(s) - 1):
            if s[p] in special or s[p + 1] in special: continue
            a, b = p in ms, p + 1 in ms
            if a and b: together.add(p)
            elif a != b: apart.add(p)
    return together - apart, apart
def words_by_rule(s):
    """The documented rule: a '##' piece joins the piece before it unless that is special."""
    toks = tok.convert_ids_to_tokens(s)
    return {p for p in range(len(s) - 1) if s[p] not in special and toks[p + 1].startswith('##')}

agree = differ = 0
examples = []
rates = {'sift': [], 'hf': []}
partial = {'sift': 0, 'hf': 0}
for s, sd, hd in zip(seqs, sift, hf):
    rule = words_by_rule(s)
    st, sa = boundaries(sd, s)
    ht, ha = boundaries(hd, s)
    for name, (t, a) in {'sift': (st, sa), 'hf': (ht, ha)}.items():
        partial[name] += len(rule & a)  # a '##' link broken: a word partly masked
    n = sum(1 for t in s if t not in special)
    rates['sift'] += [len(m) / n for m in sd]
    rates['hf'] += [len(m) / n for m in hd]
    if st == ht and sa == ha: agree += 1
    else:
        differ += 1
        examples.append((tok.convert_ids_to_tokens(s)[:4], sorted(st ^ ht)[:5]))
print(f'sequences: {len(seqs)} of {len(seqs[0])} tokens ({L} maskable), {DRAWS} draws each')
print(f"'##' links broken (word partly masked): sift {partial['sift']}, HF {partial['hf']}")
print(f'inferred word boundaries identical: {agree} sequences, different: {differ}')
for e in examples[:5]: print('  differs:', e)
for k in rates: print(f'{k}: masked share of the {L} maskable tokens: mean {np.mean(rates[k]):.4f}, sd {np.std(rates[k]):.4f}')
print('HF budget round(64*0.15) =', round(64 * 0.15), '-> share', round(64 * 0.15) / L, '; sift budget round(62*0.15) =', round(62 * .15), '->', round(62 * .15) / L)
print('distinct masks per sequence (first 3): sift', [len({tuple(m) for m in d}) for d in sift[:3]], 'HF', [len({tuple(m) for m in d}) for d in hf[:3]])
# A document boundary inside a sequence, right before a '##' piece (sift prepare packs documents separated by [SEP]
# and cuts them anywhere): HF's rule appends the piece to the word before the [SEP]; sift makes it a word of its own.
s = seqs[0]
toks = tok.convert_ids_to_tokens(s)
k = next(p for p in range(5, len(s) - 1) if toks[p + 1].startswith('##') and not toks[p].startswith('##'))
t = s[:k + 1] + [tok.sep_token_id] + s[k + 1:-2] + [tok.sep_token_id]
json.dump([t], open('seqs_sep.json', 'w'))
subprocess.run([HARNESS, VOCAB, 'seqs_sep.json', str(DRAWS), 'sift_sep.json'], check=True)
sd = json.load(open('sift_sep.json'))[0]
hd = []
for d in range(DRAWS):
    random.seed(d); np.random.seed(d)
    hd.append([int(p) for p in np.nonzero(coll([{'input_ids': t}])['labels'][0] != -100)[0]])
a, b = k, k + 2   # the piece before the inserted [SEP] and the '##' piece after it
print('mid-sequence [SEP] then', tok.convert_ids_to_tokens([t[b]]), ': masked together with', tok.convert_ids_to_tokens([t[a]]),
      'in HF', sum((a in m) and (b in m) for m in hd), 'apart', sum((a in m) != (b in m) for m in hd),
      '| sift together', sum((a in m) and (b in m) for m in sd), 'apart', sum((a in m) != (b in m) for m in sd))
