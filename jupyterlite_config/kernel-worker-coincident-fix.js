// A fix for the Pyodide kernel's synchronous calls to the page on a cross-origin isolated page, loaded in the
// kernel's worker before the kernel's own module (kernel-interrupt-worker.js imports it first; tools/build_site.py
// puts it beside the kernel's worker as torch-js-coincident-fix.js).
//
// On an isolated page JupyterLite's kernel runs coincident (its worker <-> page calls over SharedArrayBuffer); the
// kernel's /drive file system makes one such call per file operation, hundreds at each start. A call with a reply
// takes two rounds: the page answers the reply's length in a 2-int buffer (done flag last), then the worker posts a
// buffer of that size and waits with Atomics.wait(buffer, 0, 0) while the page writes the reply's UTF-16 units
// into it from the start, then notifies. Element 0 of that wait is the reply's first two units: when the worker
// reaches its wait after the page has begun writing (a busy machine, a long reply), the wait returns at once,
// and the worker decodes a reply whose end is still zeros: JSON.parse fails ("Bad control character in string
// literal") and Pyodide dies with a fatal error. Seen here in about 1 kernel start in 6 on a loaded 2-core machine.
//
// Atomics.wait is wrapped (coincident reads it when its module is evaluated, after this one): after the first round
// it notes the reply's length; after the wait on the reply's buffer it waits on until the reply's last unit is
// written (a JSON text never ends with U+0000).
const wait = Atomics.wait;
const nap = new Int32Array(new SharedArrayBuffer(4));   // never notified: a 1 ms sleep
let replyUnits = 0;

Atomics.wait = function (array, index, value, timeout) {
  const result = wait.call(Atomics, array, index, value, timeout);
  if (!(array instanceof Int32Array) || index !== 0 || result === "timed-out") return result;
  if (replyUnits > 0) {   // the second round, whatever its buffer's size
    const units = new Uint16Array(array.buffer);
    const last = replyUnits - 1;
    replyUnits = 0;
    if (units.length > last) while (Atomics.load(units, last) === 0) wait.call(Atomics, nap, 0, 0, 1);
  } else if (array.length === 2) {
    replyUnits = array[1];   // the first round's answer: the reply's length (0: no reply, no second round)
  }
  return result;
};
