/* rest.js — the console's only door to the suite: every REST path it uses (one table, so a
 * route change is one line here) and the HTTP client that calls them with the session.
 * Async APIs (202 + location) are followed to their result with long polls (?wait=). */
"use strict";

const Rest = (() => {
  const BASE = "/zstack/v1";
  /* API name -> [method, path under /zstack/v1, action key of PUT bodies] */
  const ROUTES = {
    LogInByAccount: ["PUT", "/accounts/login", "logInByAccount"],
    LogOut: ["DELETE", "/accounts/sessions/{sessionUuid}"],
    ValidateSession: ["GET", "/accounts/sessions/{sessionUuid}/valid"],
    QueryAccount: ["GET", "/accounts"],
    QueryTicket: ["GET", "/tickets"],
    CreateTicket: ["POST", "/tickets"],
    ChangeTicketStatus: ["PUT", "/tickets/{uuid}/actions", "changeTicketStatus"],
    QueryTicketHistory: ["GET", "/tickets/histories"],
    QueryTicketFlow: ["GET", "/tickets/flow"],
    QueryTicketFlowCollection: ["GET", "/tickets/flow-collections"],
    QueryLongJob: ["GET", "/longjobs"],
    SubmitLongJob: ["POST", "/longjobs"],
    CancelLongJob: ["PUT", "/longjobs/{uuid}/actions", "cancelLongJob"],
    ResumeLongJob: ["PUT", "/longjobs/{uuid}/actions", "resumeLongJob"],
    RerunLongJob: ["PUT", "/longjobs/{uuid}/actions", "rerunLongJob"],
    GetTaskProgress: ["GET", "/task-progresses/{apiId}"],
    QueryNotification: ["GET", "/notifications"],
    UpdateNotificationsStatus: ["PUT", "/notifications/actions", "updateNotificationsStatus"],
    QueryGCJob: ["GET", "/gc-jobs"],
    TriggerGCJob: ["PUT", "/gc-jobs/{uuid}/actions", "triggerGCJob"],
    QueryHost: ["GET", "/hosts"],
    GetCpuMemoryCapacity: ["GET", "/hosts/capacities/cpu-memory"],
    GetLicenseInfo: ["GET", "/licenses"],
    QuerySystemTag: ["GET", "/system-tags"],
    QueryUserTag: ["GET", "/user-tags"],
  };

  let session = null;          /* {uuid, accountUuid, name, admin} */
  let onExpired = () => {};

  class ApiError extends Error {
    constructor(status, error) {
      super((error && (error.details || error.description)) || ("HTTP " + status));
      this.status = status;
      this.code = error && error.code;
    }
  }

  function query(params) {
    const parts = [];
    for (const [k, v] of Object.entries(params)) {
      for (const one of Array.isArray(v) ? v : [v]) {
        if (one !== undefined && one !== null && one !== "")
          parts.push(encodeURIComponent(k) + "=" + encodeURIComponent(one));
      }
    }
    return parts.length ? "?" + parts.join("&") : "";
  }

  async function http(method, url, body) {
    const headers = {"Content-Type": "application/json;charset=UTF-8"};
    if (session) headers.Authorization = "OAuth " + session.uuid;
    const r = await fetch(url, {method, headers, body: body === undefined ? undefined : JSON.stringify(body)});
    const text = await r.text();
    let doc = null;
    try { doc = text ? JSON.parse(text) : {}; } catch (e) { doc = {error: {details: text.slice(0, 200)}}; }
    return [r.status, doc];
  }

  /* Calls API `name` with `params` (path placeholders are taken from them). Resolves to the
   * answer body; rejects with ApiError. An expired session calls the onExpired hook. */
  async function call(name, params = {}) {
    const [method, template, action] = ROUTES[name];
    const rest = Object.assign({}, params);
    const path = template.replace(/\{(\w+)\}/g, (_, k) => {
      const v = rest[k];
      delete rest[k];
      return encodeURIComponent(v);
    });
    let url = BASE + path, body;
    if (method === "GET" || method === "DELETE") url += query(rest);
    else body = {[action || "params"]: rest};
    let [status, doc] = await http(method, url, body);
    while (status === 202 && doc.location) {
      const loc = new URL(doc.location, location.href);   /* same origin: only its path */
      [status, doc] = await http("GET", loc.pathname + "?wait=25");
    }
    if (status >= 200 && status < 300) return doc;
    const err = new ApiError(status, doc.error);
    if (err.code === "ID.1001" && session) {
      session = null;
      onExpired(err);
    }
    throw err;
  }

  return {
    call, ApiError,
    setSession(s) { session = s; },
    getSession() { return session; },
    onSessionExpired(fn) { onExpired = fn; },
  };
})();
