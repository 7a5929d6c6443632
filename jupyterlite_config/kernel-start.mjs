// The Pyodide kernel's loadPyodide, faster (tools/build_site.py copies this module beside pyodide.mjs as
// static/pyodide/torch-js-kernel-start.mjs and points the kernel's pyodideUrl at it; indexURL stays that folder).
// It exports what the kernel imports from pyodide.mjs (loadPyodide, version) and changes three things:
//
// 1. Started before the kernel asks. The kernel's worker calls prestart() as soon as it runs, with the options the
//    kernel will pass (its entry, written by build_site.py from the site's jupyter-lite.json: packages, env), and a
//    page that will start a kernel starts that worker as it loads (kernel-prestart.js): Pyodide boots and unpacks
//    the packages while the JupyterLab app is still loading on the page's thread, instead of after it. The kernel's
//    own loadPyodide() call then takes that instance when its options are the same (else it boots as usual), with
//    its stdout/stderr callbacks. The boot is kept on the worker's global, so a second copy of this module (another
//    URL for the same file) finds it too.
// 2. Jedi later. IPython works without jedi (its own completer), and jedi with its typeshed stubs is the largest
//    unpack of the start (about 0.4 s in Node, more on a page). It is left out of the start (the site's lock does not
//    list it as IPython's dependency: build_site.py's DEFERRED_DEPENDENCIES) and loaded when completion is first asked
//    for; that first completion is IPython's own, later ones use jedi as JupyterLite's kernel does by default.
// 3. Two modules on first use. `import IPython` imports IPython.terminal.embed (for IPython.embed), and with it
//    prompt_toolkit: 160 modules, a third of the kernel's import, that a kernel never uses; the kernel imports
//    piplite.piplite (with micropip, unittest.mock, email, ...) to set two options, used by %pip only. Each is
//    imported when something first reads from it (IPython.embed(), `from IPython.terminal.embed import ...`, %pip).
import { loadPyodide as loadPyodideCore, version } from "./pyodide.mjs";

export { version };

const DEFERRED = ["jedi"];   // (with its dependency parso)
const BOOT = Symbol.for("torch_js.kernelStart");   // on the worker's global: {key, pyodide: Promise}

// What decides whether a started Pyodide is the one the kernel asks for: everything but the output callbacks.
function keyOf({ stdout, stderr, ...rest }) {
  const sorted = (value) => (value && typeof value === "object" && !Array.isArray(value)
    ? Object.fromEntries(Object.keys(value).sort().map((k) => [k, sorted(value[k])])) : value);
  return JSON.stringify(sorted(rest));
}

const ON_FIRST_USE = `
def _torch_js_on_first_use(name, functions):
    """Import module \`name\` as a stand-in that imports the real one when something first reads from it (calls
    one of \`functions\`, or any other name); names set on the stand-in before that are set on the real module."""
    import importlib, importlib.machinery, sys, types
    stub = types.ModuleType(name, "imported on first use (jupyterlite_config/kernel-start.mjs)")

    class StandIn:   # a finder and loader: imported through it, the stand-in is bound in its package as usual
        def find_spec(self, fullname, path=None, target=None):
            return importlib.machinery.ModuleSpec(name, self) if fullname == name else None

        def create_module(self, spec):
            return stub

        def exec_module(self, module):
            pass

    finder = StandIn()

    def load():
        if finder in sys.meta_path:
            sys.meta_path.remove(finder)
        if sys.modules.get(name) is stub:
            del sys.modules[name]
            module = importlib.import_module(name)
            for key, value in list(vars(stub).items()):
                if not key.startswith("__") and key not in functions:
                    setattr(module, key, value)
            return module
        return importlib.import_module(name)

    def getattr_(attr):
        if attr == "__path__":   # what the import system asks of a module (is it a package?): no, as the real one
            raise AttributeError(attr)
        return getattr(load(), attr)

    stub.__getattr__ = getattr_
    for function in functions:   # what the package takes from it at its own import
        setattr(stub, function, lambda *args, _function=function, **kwargs: getattr(load(), _function)(*args, **kwargs))
    sys.meta_path.insert(0, finder)

_torch_js_on_first_use("IPython.terminal.embed", ["embed"])
_torch_js_on_first_use("piplite.piplite", ["install"])
`;

// Python of this module, run in a namespace of its own (not the user's __main__).
function runPythonAside(pyodide, code) {
  const namespace = pyodide.toPy({});
  try {
    return pyodide.runPython(code, { globals: namespace });
  } finally {
    namespace.destroy();
  }
}

async function boot(options) {
  const { stdout, stderr, packages = [], env, ...rest } = options;
  const pyodide = await loadPyodideCore({   // (its own env: loadPyodide adds to the one it is given)
    ...rest, env: { ...env }, packages: packages.filter((p) => !DEFERRED.includes(p)) });
  runPythonAside(pyodide, ON_FIRST_USE);
  return pyodide;
}

// From the kernel's worker's entry, before the kernel asks: boot with the options the kernel will pass.
export function prestart(options) {
  if (!globalThis[BOOT]) globalThis[BOOT] = { key: keyOf(options), pyodide: boot(options) };
  return globalThis[BOOT].pyodide;
}

export async function loadPyodide(options) {
  const started = globalThis[BOOT];
  let pyodide;
  if (started && !started.claimed && started.key === keyOf(options)) {
    started.claimed = true;   // one kernel per worker: a restart starts a new worker
    console.info("torch_js: the kernel takes the Pyodide its worker started early");
    pyodide = await started.pyodide;
  } else {
    if (started) console.info("torch_js: the Pyodide its worker started early is not the one the kernel asks for");
    pyodide = await boot(options);
  }
  // the kernel's output callbacks (a boot is started without them)
  if (options.stdout) pyodide.setStdout({ batched: options.stdout });
  if (options.stderr) pyodide.setStderr({ batched: options.stderr });
  deferJedi(pyodide, options);
  return pyodide;
}

// Python run once the kernel's module is imported: IPython's own completer until jedi is there; the first
// completion request loads jedi (callback load_jedi), and the next ones use it.
const USE_JEDI_LATER = `
def _torch_js_use_jedi_later(load_jedi):
    import sys
    import pyodide_kernel
    from pyodide.ffi import create_once_callable
    kernel = pyodide_kernel.kernel_instance
    completer = kernel.interpreter.Completer
    if "jedi" in sys.modules:
        return
    completer.use_jedi = False
    complete = kernel.complete

    def use_jedi(*_):
        import jedi
        import jedi.api.classes
        import jedi.api.helpers
        import IPython.core.completer as ipython_completer
        jedi.settings.case_insensitive_completion = False   # as IPython's completer sets it when it imports jedi
        ipython_completer.jedi = jedi
        ipython_completer.JEDI_INSTALLED = True
        completer.use_jedi = True

    def complete_loading_jedi(code, cursor_pos):
        del kernel.complete   # from now on the kernel's own
        load_jedi(create_once_callable(use_jedi))
        return complete(code, cursor_pos)

    kernel.complete = complete_loading_jedi
_torch_js_use_jedi_later
`;

function deferJedi(pyodide, options) {
  const packages = options.packages || [];
  if (!DEFERRED.some((p) => packages.includes(p))) return;
  const runPythonAsync = pyodide.runPythonAsync;
  // the kernel imports its module with runPythonAsync (its initKernel); patch the kernel right after that
  pyodide.runPythonAsync = async function (code, ...rest) {
    const result = await runPythonAsync.call(this, code, ...rest);
    if (typeof code === "string" && /^import pyodide_kernel$/m.test(code)) {
      pyodide.runPythonAsync = runPythonAsync;
      const useJediLater = runPythonAside(pyodide, USE_JEDI_LATER);
      useJediLater((then) => {
        pyodide.loadPackage(DEFERRED, { messageCallback() {} })
          .then(() => then())
          .catch((error) => console.warn("torch_js: jedi could not be loaded; completion stays IPython's own", error));
      });
      useJediLater.destroy();
    }
    return result;
  };
}
