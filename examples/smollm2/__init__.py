"""SmolLM2-135M-Instruct generating text with torch_js: GGUF weights (torch_js.load_gguf), a byte-level BPE
tokenizer (tokenizer.py), a Llama decoder with a static KV cache (model.py) and the generation script (generate.py)."""
