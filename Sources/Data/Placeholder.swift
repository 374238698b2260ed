// Data pipeline: tokenizer, vocabulary, shards, masking (see issue 3).
