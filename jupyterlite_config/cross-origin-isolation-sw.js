// The site's service worker (tools/build_site.py installs it as service-worker.js, the URL JupyterLite registers):
// JupyterLite's own worker (its drive and stdin bridge, moved to service-worker.jupyterlite.js) wrapped so that every
// page and worker script the site serves comes back with the cross-origin isolation headers. A host that cannot set
// headers (GitHub Pages, a plain `python -m http.server`) then still gives crossOriginIsolated pages, hence
// SharedArrayBuffer: CPU threads, the kernel's Interrupt, the embed's Stop that keeps variables.
//
// One scope has one service worker, so the two cannot be registered side by side: this file loads JupyterLite's
// (importScripts, while this one is evaluated), lets it add its listeners, and runs its fetch listeners itself on a
// stand-in event. Whatever response JupyterLite gives (its drive/stdin answers, its cache, its network fetch) gets
// the headers; a request it leaves alone is fetched here when it makes a client (a page, an iframe, a worker), and
// otherwise left to the browser (a same-origin subresource needs no header under require-corp). The pages register
// this worker themselves (cross-origin-isolation.js) and reload once it controls them.
"use strict";

const ISOLATION_HEADERS = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",   // not credentialless: WebKit ignores that one
  "Cross-Origin-Resource-Policy": "cross-origin",
};
// request destinations whose response decides a new client's isolation
const CLIENT_DESTINATIONS = new Set(["document", "iframe", "frame", "worker", "sharedworker"]);

const addListener = self.addEventListener.bind(self);
const fetchListeners = [];
self.addEventListener = (type, listener, options) => {
  if (type === "fetch") fetchListeners.push(listener);
  else addListener(type, listener, options);
};
try {
  importScripts("./service-worker.jupyterlite.js");
} finally {
  self.addEventListener = addListener;
}

function withIsolationHeaders(response) {
  // opaque responses (status 0) and redirects cannot be rebuilt; they make no client here anyway
  if (!response || response.status === 0 || response.type === "opaqueredirect") return response;
  const headers = new Headers(response.headers);
  for (const [name, value] of Object.entries(ISOLATION_HEADERS)) headers.set(name, value);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

addListener("fetch", (event) => {
  let answer = null;
  // JupyterLite's listeners read request and call respondWith/waitUntil synchronously (a FetchEvent's own getters
  // refuse another `this`, hence a plain stand-in rather than a prototype copy)
  const standIn = {
    type: event.type, request: event.request, clientId: event.clientId, resultingClientId: event.resultingClientId,
    preloadResponse: event.preloadResponse, handled: event.handled,
    respondWith: (response) => { answer = response; },
    waitUntil: (promise) => event.waitUntil(promise),
  };
  for (const listener of fetchListeners) {
    if (answer) break;
    typeof listener === "function" ? listener.call(self, standIn) : listener.handleEvent(standIn);
  }
  const request = event.request;
  if (answer) {
    event.respondWith(Promise.resolve(answer).then(withIsolationHeaders));
  } else if (request.method === "GET" && (request.mode === "navigate" || CLIENT_DESTINATIONS.has(request.destination))
             && new URL(request.url).origin === self.location.origin) {
    event.respondWith(fetch(request).then(withIsolationHeaders));
  }
});
