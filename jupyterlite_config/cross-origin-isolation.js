// Cross-origin isolation on any static host (tools/build_site.py adds this script, first in <head>, to the site's
// pages; it lives in static/torch_js/). A page that is not crossOriginIsolated (its host sent no COOP/COEP headers)
// registers the site's service worker (service-worker.js: JupyterLite's own, wrapped to add those headers, see
// cross-origin-isolation-sw.js) under the URL JupyterLite registers, so both are one registration, and reloads once
// that worker controls it: the reloaded page comes through the worker, with the headers, and is isolated.
// Where that cannot work (no service workers: a private window in some browsers, an insecure http:// origin other
// than localhost) the page stays as it is: torch_js then reports one CPU thread and says why, and JupyterLite's
// Interrupt cannot stop running code. window.torchJsIsolation says what happened.
(function () {
  "use strict";
  const RELOADED = "torch_js.isolation.reloaded";   // sessionStorage: reload once per tab, never in a loop
  const state = { isolated: Boolean(window.crossOriginIsolated), by: null, reason: null };
  window.torchJsIsolation = state;
  const here = document.currentScript && document.currentScript.src;
  const giveUp = (reason) => {
    state.reason = reason;
    console.warn(`torch_js: this page is not cross-origin isolated: ${reason}`);
  };
  if (state.isolated) {
    state.by = navigator.serviceWorker && navigator.serviceWorker.controller ? "service worker or headers" : "headers";
    try { sessionStorage.removeItem(RELOADED); } catch (e) { /* storage blocked: nothing to clear */ }
    return;
  }
  if (!window.isSecureContext || !("serviceWorker" in navigator) || !here) {
    giveUp(!window.isSecureContext ? "not a secure context (https:// or localhost needed)"
                                   : "service workers are not available here");
    return;
  }
  let reloadedBefore = false;
  try { reloadedBefore = sessionStorage.getItem(RELOADED) === "1"; } catch (e) { reloadedBefore = true; }
  if (reloadedBefore) {
    giveUp("the service worker did not isolate the page after a reload");
    return;
  }
  // the site's root: this script is <root>/static/torch_js/cross-origin-isolation.js
  const root = new URL("../../", here);
  // JupyterLite registers <root>/service-worker.js?enableCache=<its page option, default false>: the same URL here
  const workerUrl = new URL("service-worker.js?enableCache=false", root);
  const reload = () => {
    try { sessionStorage.setItem(RELOADED, "1"); } catch (e) { return; }
    window.location.reload();
  };
  navigator.serviceWorker.register(workerUrl.href, { scope: root.pathname }).then(async (registration) => {
    if (!registration) { giveUp("service workers are not available here"); return; }   // blocked by the browser
    // the worker claims its clients when it activates (JupyterLite's does): the page then changes controller
    navigator.serviceWorker.addEventListener("controllerchange", reload, { once: true });
    if (navigator.serviceWorker.controller) {
      // controlled, yet not isolated: an older worker of this site, without the headers; fetch the new one
      await registration.update();
      if (!registration.installing && !registration.waiting) giveUp("the site's service worker adds no headers");
    } else if (registration.active && !registration.installing && !registration.waiting) {
      reload();   // active already (a hard reload bypasses it): a plain reload comes through it
    }
  }).catch((error) => giveUp(`the service worker could not be registered (${error})`));
})();
