// A small client for cascada's HTTP API (src/cascada/service/API.md): session
// cookie set by login, and the CSRF token sent back on every unsafe request.

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

let csrfToken = null;

export function setCsrfToken(token) {
  csrfToken = token;
}

async function request(method, path, { json, form, signal } = {}) {
  const headers = { Accept: "application/json" };
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form;
  }
  if (method !== "GET" && method !== "HEAD" && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  const response = await fetch(`api${path}`, { method, headers, body, credentials: "same-origin", signal });
  if (response.status === 204) return null;
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { detail: text };
  }
  if (!response.ok) {
    let detail = data?.detail ?? response.statusText;
    if (Array.isArray(detail)) detail = detail.map((d) => d.msg ?? JSON.stringify(d)).join("; ");
    throw new ApiError(response.status, String(detail));
  }
  return data;
}

export const api = {
  get: (path, opts) => request("GET", path, opts),
  post: (path, json) => request("POST", path, { json }),
  postForm: (path, form) => request("POST", path, { form }),
  url: (path) => `api${path}`,
};

export async function login(username, password) {
  const me = await api.post("/auth/login", { username, password });
  setCsrfToken(me.csrf_token);
  return me;
}

export async function currentUser() {
  try {
    const me = await api.get("/auth/me");
    setCsrfToken(me.csrf_token);
    return me;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return null;
    throw err;
  }
}

export async function logout() {
  try {
    await api.post("/auth/logout");
  } finally {
    setCsrfToken(null);
  }
}

// Follow a run until it finishes: server-sent events from /events, falling
// back to polling every second if the stream fails. `onUpdate(run)` is called
// on every change; resolves with the finished run.
const FINISHED = new Set(["succeeded", "failed", "cancelled", "interrupted"]);

export function isFinished(run) {
  return FINISHED.has(run.status);
}

export function followRun(projectId, runId, onUpdate) {
  const base = `/projects/${encodeURIComponent(projectId)}/runs/${encodeURIComponent(runId)}`;
  let stopped = false;
  let source = null;
  let timer = null;
  const done = new Promise((resolve, reject) => {
    const finish = (run) => {
      stopped = true;
      source?.close();
      clearTimeout(timer);
      resolve(run);
    };
    const poll = async () => {
      if (stopped) return;
      try {
        const run = await api.get(base);
        onUpdate(run);
        if (isFinished(run)) return finish(run);
      } catch (err) {
        stopped = true;
        return reject(err);
      }
      timer = setTimeout(poll, 1000);
    };
    if (typeof EventSource === "undefined") return poll();
    source = new EventSource(api.url(`${base}/events`));
    source.onmessage = (event) => {
      let run;
      try {
        run = JSON.parse(event.data);
      } catch {
        return;
      }
      onUpdate(run);
      if (isFinished(run)) finish(run);
    };
    source.onerror = () => {
      // The stream ended or failed: read the final state (or keep polling).
      if (stopped) return;
      source.close();
      source = null;
      poll();
    };
  });
  return { done, stop: () => { stopped = true; source?.close(); clearTimeout(timer); } };
}
