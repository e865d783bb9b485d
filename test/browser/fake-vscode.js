// The browser tests' stand-in for the VS Code webview API: it records what the panel posts to the host, and lets the
// test post host messages (binary fields arrive as base64 and are turned back into Uint8Arrays).
(() => {
  window.__sent = [];
  let state;
  window.acquireVsCodeApi = () => ({
    postMessage: (message) => window.__sent.push(message),
    getState: () => state,
    setState: (s) => (state = s),
  });
  const revive = (value) => {
    if (value && typeof value === 'object') {
      if (typeof value.__bytes === 'string') return Uint8Array.from(atob(value.__bytes), (c) => c.charCodeAt(0));
      for (const key of Object.keys(value)) value[key] = revive(value[key]);
    }
    return value;
  };
  window.__fromHost = (message) => window.postMessage(revive(message), '*');
})();
