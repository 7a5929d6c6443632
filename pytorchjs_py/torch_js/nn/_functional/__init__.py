"""torch_js.nn.functional, one op family per file; nn/functional.py re-exports them."""
