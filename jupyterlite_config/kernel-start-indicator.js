// The site's start-up feedback (tools/build_site.py adds this script to the lab, notebooks and repl pages): while the
// current document's kernel starts (Pyodide, then IPython, torch_js preloaded), a pill at the bottom of the page says
// what is loading and for how long; it goes when the kernel is idle, and comes back when a kernel restarts. JupyterLab
// itself shows only a small spinner beside the kernel's name, and a first start takes many seconds.
(function () {
  "use strict";
  const START = performance.now();
  const pill = document.createElement("div");
  pill.id = "tjs-kernel-start";
  pill.setAttribute("role", "status");
  pill.setAttribute("aria-live", "polite");
  pill.style.cssText = [
    "position:fixed", "left:50%", "bottom:28px", "transform:translateX(-50%)", "z-index:10000",
    "padding:8px 16px", "border-radius:18px", "font:13px/1.4 system-ui,sans-serif", "color:#fff",
    "background:rgba(40,40,48,0.92)", "box-shadow:0 2px 10px rgba(0,0,0,0.25)", "pointer-events:none",
    "transition:opacity 0.4s", "opacity:0",
  ].join(";");
  let since = START;
  let shown = false;
  let readyAt = null;
  let kernelWasReady = false;   // then a start is a restart: counted from when it began, not from navigation

  function kernelOf(app) {
    const widget = app && app.shell && app.shell.currentWidget;
    const session = widget && widget.sessionContext;
    if (!session) return { hasSession: false };
    const kernel = session.session && session.session.kernel;
    return { hasSession: true, status: kernel ? kernel.status : "starting", ready: !!(kernel && session.isReady) };
  }

  function show(text) {
    if (!pill.isConnected && document.body) document.body.appendChild(pill);
    pill.textContent = text;
    pill.style.opacity = "1";
    shown = true;
  }

  function hide() {
    pill.style.opacity = "0";
    shown = false;
  }

  function tick() {
    const app = window.jupyterapp;
    const now = performance.now();
    const secs = Math.round((now - since) / 1000);
    if (!app) {
      show(`Loading the notebook app… ${secs} s`);
      return;
    }
    const k = kernelOf(app);
    const busyStarting = k.hasSession && (!k.ready || ["starting", "restarting", "unknown", "autorestarting"].includes(k.status));
    if (busyStarting) {
      if (readyAt !== null && kernelWasReady) since = now;
      readyAt = null;
      show(`Starting Python (Pyodide) with torch_js… ${secs} s` +
           (secs >= 8 ? " (the first visit downloads about 30 MB; later visits start from the browser's cache)" : ""));
      return;
    }
    if (readyAt === null) {
      readyAt = now;
      kernelWasReady = k.hasSession;
      if (k.hasSession && shown) show(`Python is ready (${((now - since) / 1000).toFixed(1)} s)`);
      setTimeout(() => { if (readyAt !== null) hide(); }, 1500);
    }
  }

  setInterval(tick, 250);
  if (document.readyState !== "loading") tick();
  else document.addEventListener("DOMContentLoaded", tick);
})();
