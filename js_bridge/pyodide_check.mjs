#!/usr/bin/env node
// The torch_js test suite inside Pyodide, with real pytest: `make test-pyodide`.
//
//   node js_bridge/pyodide_check.mjs [pytest args...]      (default args: tests)
//
// 1. Boot Pyodide in Node (js_bridge/pyodide_env.mjs), unpack pytest + its pure-Python deps from
//    build/pyodide-wheels/ (`make pyodide-deps`) and the torch_js wheel from dist/ (`make wheel`) into
//    site-packages: so the suite tests the installed wheel, wasm kernels and all.
// 2. NODEFS-mount the checkout at its host path, chdir there, and run pytest.main() on tests/.
// 3. Exit with pytest's exit code; "no tests collected" (5) is turned into a failure.
// torch is absent in Pyodide: tests that need it skip themselves; fixture-based tests run. The OpInfo fixture is
// read through the same mount, from build/fixtures/ (`make fixtures`, a prerequisite of the test targets).
import { bootPyodide, ensureNodeFlags, findDeps, passEnv, REPO } from "./pyodide_env.mjs";

ensureNodeFlags();

const PYTEST_DEPS = ["pytest", "pluggy", "iniconfig", "packaging", "pygments"];
const args = process.argv.slice(2);
// -p no:cacheprovider: don't write .pytest_cache into the (shared, host-mounted) checkout.
const pytestArgs = ["-p", "no:cacheprovider", "-ra", ...(args.length ? args : ["tests"])];

let pyodide, timings;
try {
  ({ pyodide, timings } = await bootPyodide({ deps: findDeps(PYTEST_DEPS), env: passEnv() }));
} catch (e) {
  process.stderr.write(`pyodide_check: could not start Pyodide with torch_js: ${e.message ?? e}\n`);
  process.exit(1);
}
process.stderr.write(`pyodide_check: Pyodide + torch_js ready in ${Math.round(timings.ready)} ms ` +
  `(boot ${Math.round(timings.boot)}, install ${Math.round(timings.install)}, import ${Math.round(timings.import)})\n`);

const run = pyodide.runPython(`
def _run(repo, args):
    import os, sys
    sys.dont_write_bytecode = True   # no __pycache__/*.cpython-314.pyc in the host checkout
    os.chdir(repo)
    import pytest
    import torch_js
    from torch_js.backends.cpu import library as native
    print(f"torch_js {torch_js.__version__} from {os.path.dirname(torch_js.__file__)}; "
          f"kernels {os.path.basename(native.LIB_PATH)}", flush=True)
    try:
        code = int(pytest.main(list(args)))
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    return code
_run
`);
let code;
try {
  code = await run.callPromising(REPO, pyodide.toPy(pytestArgs));
} catch (e) {
  process.stderr.write(`pyodide_check: ${e.message ?? e}\n`);
  code = 1;
}
if (code === 5) {
  process.stderr.write("pyodide_check: pytest collected no tests (exit 5): treating as failure\n");
  code = 1;
}
process.exit(code);
