"""The real-model notebooks run in the built site, offline, to the outputs CPython gives on the same files:
content/semantic_search.ipynb (all-MiniLM-L6-v2) ranks first the sentence torch_js ranks first in CPython, and
content/text_generation.ipynb (SmolLM2-135M-Instruct) generates the greedy token ids torch_js gives in CPython with
the same quantised linears, on wasm and, where the browser has it, on webgpu. The weights are the site's own copies
(_output/models/, tools/site_models.py). That CPython's torch_js agrees with PyTorch on the same model code is
tests/test_minilm_example.py's and tests/test_smollm2_example.py's part (the q8_0 linears give the float ids there)."""
import ast
import json
import re
import sys
import time

import pytest

from conftest import REPO, SITE
from test_site import STATE_JS, open_notebook, record_timing, run_all_cells

sys.path.insert(0, str(REPO / "examples"))
sys.path.insert(0, str(REPO / "pytorchjs_py"))
sys.path.insert(0, str(REPO / "tests"))
import torch_js  # noqa: E402  (CPython's torch_js computes the expected outputs)
from minilm.tokenizer import WordPieceTokenizer  # noqa: E402
from example_modules import load_example  # noqa: E402

MODELS = SITE / "models"
GGUF = MODELS / "SmolLM2-135M-Instruct.Q4_1.gguf"
MINILM = MODELS / "all-MiniLM-L6-v2"


def notebook_cells(name):
    nb = json.loads((REPO / "content" / name).read_text())
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]


def assigned_literal(cells, name):
    """The literal a notebook's code assigns to `name` (e.g. its list of sentences)."""
    for src in cells:
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
                return ast.literal_eval(node.value)
    raise AssertionError(f"no `{name} = ...` in the notebook")


# every different text the notebook's stdout shows while it runs, polled in the page (what a reader sees come)
WATCH_STDOUT_JS = """() => {
  window.stdoutSeen = [];
  const state = %s;
  window.stdoutWatch = setInterval(() => {
    const s = state();
    const text = s ? s.cells.map(c => c.stdout).join('') : '';
    if (text !== window.stdoutSeen[window.stdoutSeen.length - 1]) window.stdoutSeen.push(text);
  }, 50);
}""" % STATE_JS


def run_notebook(context, site_url, artifacts, name):
    """Run every cell of content/<name> in the Notebook app; returns (stdout of all cells, every different stdout
    seen while it ran, kernel s, run s)."""
    if not (MODELS / "manifest.json").is_file():
        pytest.fail(f"{MODELS} missing: `make site` runs tools/site_models.py")
    page = context.new_page()
    page_errors = []
    page.on("pageerror", lambda e: page_errors.append(str(e)))
    n_code = len(notebook_cells(name))
    t_ready = open_notebook(page, site_url, name, n_code)
    page.evaluate(WATCH_STDOUT_JS)
    state, _, t_all = run_all_cells(page, artifacts, name, n_code)
    seen = page.evaluate("() => { clearInterval(window.stdoutWatch); return window.stdoutSeen; }")
    page.locator(".jp-Notebook .jp-Cell").last.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / f"{name.removesuffix('.ipynb')}.png"))
    assert not page_errors, f"uncaught page errors: {page_errors}"
    stdout = "".join(c["stdout"] for c in page.evaluate(STATE_JS)["cells"])
    (artifacts / f"{name.removesuffix('.ipynb')}.stdout.txt").write_text(stdout)
    return stdout, seen, t_ready, t_all


def printed(stdout, label):
    """The rest of the line `label: ...` the notebook printed, or None."""
    m = re.search(rf"^{re.escape(label)}: (.*)$", stdout, re.M)
    return m.group(1) if m else None


def check_printed(stdout, label, expected):
    got = printed(stdout, label)
    assert got == expected, f"{label}: {got!r}, CPython: {expected!r}\n{stdout[-3000:]}"


def _example(module, torch_module):
    """examples/<module>.py with `import torch` giving torch_module (torch_js or PyTorch)."""
    return load_example(module, f"{module}_{torch_module.__name__}".replace("/", "_"), torch_module)


def test_semantic_search_notebook(context, site_url, artifacts):
    name = "semantic_search.ipynb"
    cells = notebook_cells(name)
    sentences = assigned_literal(cells, "sentences")
    query = "Why are share prices dropping?"
    assert any(f'search("{query}", vectors, model)' in src for src in cells)
    model_mod = _example("minilm/model", torch_js)
    files = model_mod.read_model_files(str(MINILM))
    tokenizer = WordPieceTokenizer.from_tokenizer_json(files["tokenizer.json"])
    vectors = model_mod.embed(model_mod.load_minilm(files), tokenizer, [query, *sentences])
    scores = (vectors[1:] @ vectors[0]).tolist()
    best = max(range(len(sentences)), key=scores.__getitem__)
    assert sorted(scores)[-1] - sorted(scores)[-2] > 0.1, "the expected answer must be clear-cut"

    t0 = time.monotonic()
    stdout, _, t_ready, t_all = run_notebook(context, site_url, artifacts, name)
    # webgpu too: the tests' Chromium has WebGPU (--enable-unsafe-webgpu, on SwiftShader)
    for device in ("wasm", "webgpu"):
        check_printed(stdout, f"top on {device}", sentences[best])
    assert "largest difference from the CPU's" in stdout
    record_timing(artifacts, name, {"kernel_ready_s": round(t_ready, 2), "all_cells_s": round(t_all, 2),
                                    "test_s": round(time.monotonic() - t0, 2)})


def test_text_generation_notebook(context, site_url, artifacts):
    name = "text_generation.ipynb"
    cells = notebook_cells(name)
    assert any('load_llama(gguf_path, quant="q8_0")' in src for src in cells)
    tok_mod = _example("smollm2/tokenizer", torch_js)
    model_mod = _example("smollm2/model", torch_js)
    model, meta = model_mod.load_llama(str(GGUF), quant="q8_0")
    tokenizer = tok_mod.ByteLevelBPE.from_gguf_metadata(meta)
    stop = {tokenizer.eos_id, tokenizer.ids["<|im_end|>"], tokenizer.ids["<|endoftext|>"]}
    prompt = tokenizer.encode(tok_mod.chat_prompt("What is the capital of France?"))
    expected = model_mod.generate(model, prompt, 30, stop_ids=stop)
    assert 3 < len(expected) < 30, expected                    # the answer ends before the token limit

    t0 = time.monotonic()
    stdout, seen, t_ready, t_all = run_notebook(context, site_url, artifacts, name)
    check_printed(stdout, "ids on wasm", str(expected))
    # streamed: while it was generated, the answer was seen in at least two partial states (token by token)
    answer = tokenizer.decode(expected)
    after_prompt = [t.split(f"tokens: {prompt}\n", 1)[1] for t in seen if f"tokens: {prompt}\n" in t]
    partial = {t for t in after_prompt if t.strip() and answer.startswith(t) and t != answer}
    assert len(partial) >= 2, f"the answer did not come token by token: {after_prompt}"
    # on a software adapter (SwiftShader here) the notebook generates 3 tokens only
    software = printed(stdout, "adapter").endswith("(software)")
    check_printed(stdout, "ids on webgpu", str(expected[:3] if software else expected))
    assert answer in stdout
    record_timing(artifacts, name, {"kernel_ready_s": round(t_ready, 2), "all_cells_s": round(t_all, 2),
                                    "test_s": round(time.monotonic() - t0, 2)})
