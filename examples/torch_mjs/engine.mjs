// Where the example pages' engine and files come from: the JupyterLite site (`make site`: these pages are in
// _output/examples/torch_mjs/) or a checkout served as it is (`python3 -m http.server` at its root).
import * as torch from "../../js_bridge/torch.mjs";

const ROOT = new URL("../../", import.meta.url);
const SITE_PYODIDE = new URL("static/pyodide/", ROOT);

/** Starts torch.mjs's engine; returns {site: whether in the built site, files: URL of the notebooks' files}.
 *  The site: its own Pyodide and torch_js wheel (static/pyodide/, named by its lock), notebook files in files/.
 *  A checkout: node_modules/pyodide (torch.mjs's default), dist/'s wheel (`make wheel`), content/. */
export async function startEngine(options = {}) {
  const lock = await fetch(new URL("pyodide-lock.json", SITE_PYODIDE));
  if (lock.ok) {
    const wheel = (await lock.json()).packages["torch-js"].file_name;
    await torch.init({ ...options, pyodideURL: SITE_PYODIDE.href, wheelURL: new URL(wheel, SITE_PYODIDE).href });
    return { site: true, files: new URL("files/", ROOT).href };
  }
  // a plain static server lists folders: the wheel is found by name there
  const listing = await (await fetch(new URL("dist/", ROOT))).text();
  const name = listing.match(/torch_js-[^"'<>]*?-py3-none-any\.whl/);
  if (!name) throw new Error("no torch_js wheel in dist/: run `make wheel`");
  await torch.init({ ...options, wheelURL: new URL(`dist/${name[0]}`, ROOT).href });
  return { site: false, files: new URL("content/", ROOT).href };
}

/** The bytes of a file the site's notebooks saved (e.g. torch.save(..., "my_model.pt") in a notebook), or null.
 *  JupyterLite keeps a reader's files in this browser's IndexedDB ("JupyterLite Storage - <site path>", store
 *  "files", one record per path: {content, format}); a page of the same site (same origin) can read them. */
export async function readNotebookFile(path) {
  const names = (await indexedDB.databases()).map((d) => d.name);
  const name = `JupyterLite Storage - ${ROOT.pathname}`;
  const db = names.includes(name) ? name : names.find((n) => n?.startsWith("JupyterLite Storage"));
  if (!db) return null;
  const record = await new Promise((resolve, reject) => {
    const open = indexedDB.open(db);
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const conn = open.result;
      if (!conn.objectStoreNames.contains("files")) { conn.close(); resolve(null); return; }
      const get = conn.transaction("files").objectStore("files").get(path);
      get.onerror = () => { conn.close(); reject(get.error); };
      get.onsuccess = () => { conn.close(); resolve(get.result ?? null); };
    };
  });
  if (!record || record.type === "directory") return null;
  const content = record.content;
  if (content instanceof ArrayBuffer || ArrayBuffer.isView(content)) return new Uint8Array(content.buffer ?? content);
  if (record.format === "base64") return Uint8Array.from(atob(content), (c) => c.charCodeAt(0));
  throw new Error(`${path}: stored as ${record.format}, not a binary file`);
}
