/* pages.js — the console's pages. Each page is a function (session, args, keep) that returns
 * its element; `keep(fn, ms)` runs fn every ms while the page is shown (live updates). Only
 * actions the account may take are offered: admins see admin-only actions, approvers the
 * approval buttons of the tickets waiting for them, submitters cancel/reopen. */
"use strict";

const Pages = (() => {
  const {h, act, say, progress, table, bars} = UI;
  const OPEN = ["Pending", "IntermediateApproved"], CLOSED = ["Cancelled", "Rejected"];
  const FINISHED = ["Succeeded", "Failed", "Canceled"];

  const link = (href, text) => h("a", {href}, text);
  const state = s => h("span", {class: "state-" + s}, s || "");
  const facts = pairs => h("dl", {class: "facts"}, pairs.filter(p => p[1] !== undefined && p[1] !== null)
    .map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
  const json = v => h("pre", {}, JSON.stringify(v, null, 2));

  /* ---- tickets ----------------------------------------------------------------------- */

  const ticketColumns = [
    {field: "name", label: "Name", filter: "like", render: t => link("#/ticket/" + t.uuid, t.name)},
    {field: "status", label: "Status", filter: "eq", render: t => state(t.status)},
    {field: "executionStatus", label: "Execution", filter: "eq", render: t => state(t.executionStatus)},
    {field: "createDate", label: "Created"},
  ];

  function tickets(me) {
    const waiting = table({title: "Waiting for my approval", api: "QueryTicket", columns: ticketColumns,
      q: () => ["status?=" + OPEN.join(",")].concat(me.admin ? [] : ["currentFlow.approverUuid=" + me.accountUuid])});
    const mine = table({title: "My tickets", api: "QueryTicket", columns: ticketColumns,
      q: () => ["submitterUuid=" + me.accountUuid]});
    waiting.load();
    mine.load();
    const id = n => "nt-" + n;
    const field = (n, label, el) => [h("label", {for: id(n)}, label), Object.assign(el, {id: id(n)})];
    const name = h("input", {required: true, maxlength: 255});
    const desc = h("input", {maxlength: 2048});
    const reqName = h("input", {required: true, value: "request-1"});
    const apiName = h("input", {required: true, list: "nt-apis", value: "APICreateSystemTagMsg"});
    const apiBody = h("textarea", {required: true, rows: 5},
      '{"resourceType": "VmInstanceVO", "resourceUuid": "", "tag": "example::tag"}');
    const times = h("input", {type: "number", min: 1, max: 100, value: 1});
    const flow = h("select", {}, h("option", {value: ""}, "the default collection"));
    Rest.call("QueryTicketFlowCollection", {q: ["state=Enabled"], limit: 100, sortBy: "name", sortDirection: "asc"})
      .then(doc => flow.append(...doc.inventories.map(c => h("option", {value: c.uuid}, c.name))))
      .catch(() => { /* the default collection stays the only choice */ });
    const form = h("form", {class: "form card", "aria-labelledby": "nt-h", onsubmit: async ev => {
      ev.preventDefault();
      let body;
      try { body = JSON.parse(apiBody.value); } catch (e) { say("the API body is not JSON: " + e.message); return; }
      const doc = await act("create ticket", () => Rest.call("CreateTicket", {
        name: name.value, description: desc.value || undefined, accountSystemType: "account",
        flowCollectionUuid: flow.value || undefined,
        requests: [{requestName: reqName.value, apiName: apiName.value, apiBody: body, executeTimes: Number(times.value)}]}));
      if (doc) location.hash = "#/ticket/" + doc.inventory.uuid;
    }},
      h("h2", {id: "nt-h"}, "New ticket from a request"),
      field("name", "Ticket name", name), field("desc", "Description", desc),
      field("req", "Request name", reqName), field("api", "API (ZStack message class)", apiName),
      h("datalist", {id: "nt-apis"}, ["APICreateSystemTagMsg", "APICreateUserTagMsg", "APIDeleteTagMsg",
        "APIUpdateSystemTagMsg", "APISubmitLongJobMsg"].map(v => h("option", {value: v}))),
      field("body", "API body (JSON)", apiBody), field("times", "Execute times", times),
      field("flow", "Approval flow", flow),
      h("div", {class: "actions"}, h("button", {type: "submit"}, "Create ticket")));
    return h("div", {}, h("h1", {}, "Tickets"), waiting.el, mine.el, form);
  }

  async function accountNames(uuids) {
    const names = {};
    try {
      const doc = await Rest.call("QueryAccount", {q: ["uuid?=" + uuids.join(",")], fields: ["uuid", "name"]});
      for (const a of doc.inventories) names[a.uuid] = a.name;
    } catch (e) { /* a normal account may not read others: uuids are shown instead */ }
    return names;
  }

  function ticket(me, [uuid], keep) {
    const root = h("div", {}, h("h1", {}, "Ticket"), h("p", {}, "loading…"));
    let running = false;   /* an approved ticket is being executed: follow it */
    keep(() => { if (running) load(); }, 1500);
    const load = () => (async () => {
      const t = (await Rest.call("QueryTicket", {q: ["uuid=" + uuid]})).inventories[0];
      if (!t) { root.replaceChildren(h("h1", {}, "Ticket"), h("p", {}, "no such ticket (or not yours to see)")); return; }
      const [flows, hist] = await Promise.all([
        Rest.call("QueryTicketFlow", {q: ["collectionUuid=" + t.flowCollectionUuid], sortBy: "position", sortDirection: "asc", limit: 100}),
        Rest.call("QueryTicketHistory", {q: ["ticketUuid=" + uuid], sortBy: "sequence", sortDirection: "asc", limit: 1000})]);
      const steps = flows.inventories;
      const names = await accountNames([...new Set(steps.map(f => f.approverUuid).concat(
        hist.inventories.map(x => x.operatorUuid), [t.submitterUuid]).filter(Boolean))]);
      const who = u => names[u] || u || "system";
      const current = steps.find(f => f.uuid === t.currentFlowUuid);
      running = t.status === "FinalApproved" && ["NotStarted", "Running"].includes(t.executionStatus);
      const open = OPEN.includes(t.status), closed = CLOSED.includes(t.status);
      const mayDecide = open && current && (me.admin || current.approverUuid === me.accountUuid);
      const isSubmitter = t.submitterUuid === me.accountUuid;
      const comment = h("textarea", {id: "ticket-comment", rows: 2, maxlength: 2048});
      const event = (ev, label) => h("button", {type: "button", "data-event": ev, onclick: async () => {
        const done = await act(label, () => Rest.call("ChangeTicketStatus", {uuid, statusEvent: ev, comment: comment.value || undefined}));
        if (done) App.rerender();
      }}, label);
      const buttons = [mayDecide && event("approve", "Approve"), mayDecide && event("reject", "Reject"),
        open && isSubmitter && event("cancel", "Cancel"), closed && isSubmitter && event("reopen", "Reopen")].filter(Boolean);
      root.replaceChildren(
        h("h1", {}, "Ticket " + t.name),
        h("section", {class: "card", "aria-label": "summary"}, facts([
          ["Status", state(t.status)], ["Execution", state(t.executionStatus)], ["Submitter", who(t.submitterUuid)],
          ["Description", t.description], ["Created", t.createDate], ["UUID", t.uuid]])),
        h("section", {class: "card", "aria-labelledby": "flow-h"}, h("h2", {id: "flow-h"}, "Flow"),
          h("ol", {class: "flow"}, steps.map(f => h("li", {class: f.uuid === t.currentFlowUuid ? "current" : null,
            "aria-current": f.uuid === t.currentFlowUuid ? "step" : null},
            f.name + " — approver " + who(f.approverUuid) + (f.approverTitle ? " (" + f.approverTitle + ")" : ""))))),
        h("section", {class: "card", "aria-labelledby": "req-h"}, h("h2", {id: "req-h"}, "Requests"),
          (t.request || []).map(r => h("div", {}, h("strong", {}, r.requestName + " · " + r.apiName + " ×" + r.executeTimes), json(r.apiBody)))),
        (t.executeResults || []).length ? h("section", {class: "card", "aria-labelledby": "res-h"}, h("h2", {id: "res-h"}, "Execution results"), json(t.executeResults)) : "",
        buttons.length ? h("section", {class: "card", "aria-labelledby": "act-h"}, h("h2", {id: "act-h"}, "Act on it"),
          h("label", {for: "ticket-comment"}, "Comment"), comment, h("div", {class: "actions"}, buttons)) : "",
        h("section", {class: "card", "aria-labelledby": "hist-h"}, h("h2", {id: "hist-h"}, "History"),
          h("table", {id: "history"}, h("thead", {}, h("tr", {}, ["#", "From", "To", "Step", "By", "Comment", "When"].map(x => h("th", {scope: "col"}, x)))),
            h("tbody", {}, hist.inventories.map(x => h("tr", {}, h("td", {}, x.sequence), h("td", {}, x.fromStatus || ""),
              h("td", {}, state(x.toStatus)), h("td", {}, x.flowName || ""), h("td", {}, who(x.operatorUuid)),
              h("td", {}, x.comment || ""), h("td", {}, x.createDate)))))));
    })().catch(e => root.replaceChildren(h("h1", {}, "Ticket"), h("p", {class: "error"}, e.message)));
    load();
    return root;
  }

  /* ---- long jobs --------------------------------------------------------------------- */

  async function percentOf(job) {
    if (job.state === "Succeeded") return 100;
    try {
      const entries = (await Rest.call("GetTaskProgress", {apiId: job.apiId})).inventories;
      const last = entries[entries.length - 1];
      return last && last.content !== undefined ? Number(last.content) || 0 : 0;
    } catch (e) {
      return 0;
    }
  }

  function jobs(me, args, keep) {
    const verb = (api, label, j, t) => h("button", {type: "button", class: "secondary", "data-action": api,
      onclick: async () => { if (await act(label + " " + (j.name || j.uuid), () => Rest.call(api, {uuid: j.uuid})) !== undefined) t.load(); }}, label);
    const t = table({title: "Long jobs", api: "QueryLongJob", limit: 10, columns: [
      {field: "name", label: "Name", filter: "like"},
      {field: "jobName", label: "Job", filter: "like"},
      {field: "state", label: "State", filter: "eq", render: j => state(j.state)},
      {label: "Progress", render: j => h("span", {class: "job-progress", "data-api": j.apiId, "data-state": j.state},
        progress(j.state === "Succeeded" ? 100 : 0, "progress of " + (j.name || j.uuid)))},
      {field: "createDate", label: "Created"},
      {label: "Actions", render: (j, tt) => h("span", {class: "actions"},
        ["Waiting", "Running", "Suspended"].includes(j.state) && verb("CancelLongJob", "Cancel", j, tt),
        j.state === "Suspended" && verb("ResumeLongJob", "Resume", j, tt),
        FINISHED.includes(j.state) && verb("RerunLongJob", "Rerun", j, tt))},
    ], onRows: async rows => {
      for (const j of rows.filter(r => !FINISHED.includes(r.state))) {
        const pct = await percentOf(j);
        const cell = t.el.querySelector('.job-progress[data-api="' + j.apiId + '"]');
        if (cell) cell.replaceChildren(progress(pct, "progress of " + (j.name || j.uuid)));
      }
    }});
    t.load();
    keep(() => t.load(), 1000);
    const backup = me.admin ? h("div", {class: "actions"}, h("button", {type: "button", id: "start-backup", onclick: async () => {
      if (await act("start a backup", () => Rest.call("SubmitLongJob", {jobName: "APIBackupDatabaseMsg", name: "backup", jobData: "{}"}))) t.load();
    }}, "Start a backup")) : null;
    return h("div", {}, h("h1", {}, "Long jobs"), backup, t.el);
  }

  /* ---- notifications ----------------------------------------------------------------- */

  const text = n => {
    let args = [];
    try { args = JSON.parse(n.arguments || "[]"); } catch (e) { /* shown raw below */ }
    let i = 0;
    return (n.content || "").replace(/%s/g, () => String(args[i++] ?? ""));
  };

  function notifications(me, args, keep) {
    const mark = async (uuids, tt) => {
      if (uuids.length && await act("mark read", () => Rest.call("UpdateNotificationsStatus", {uuids, status: "Read"})) !== undefined) {
        tt.load();
        App.refreshUnread();
      }
    };
    let shown = [];
    const t = table({title: "Notifications", api: "QueryNotification", sort: ["time", "desc"], columns: [
      {field: "time", label: "Time", render: n => new Date(n.time).toLocaleString()},
      {field: "type", label: "Type", filter: "eq"},
      {field: "name", label: "About", filter: "eq"},
      {field: "content", label: "Message", render: text},
      {field: "status", label: "Status", filter: "eq"},
      {label: "", render: (n, tt) => n.status === "Unread" ? h("button", {type: "button", class: "secondary",
        onclick: () => mark([n.uuid], tt)}, "Mark read") : ""},
    ], rowClass: n => n.status === "Unread" ? "unread" : null, onRows: rows => { shown = rows; }});
    t.load();
    keep(() => t.load(), 3000);
    return h("div", {}, h("h1", {}, "Notifications"), h("div", {class: "actions"},
      h("button", {type: "button", onclick: () => mark(shown.filter(n => n.status === "Unread").map(n => n.uuid), t)}, "Mark all shown as read")), t.el);
  }

  /* ---- GC jobs, hosts, license, tags ------------------------------------------------- */

  function gc(me, args, keep) {
    const t = table({title: "GC jobs", api: "QueryGCJob", columns: [
      {field: "name", label: "Name", filter: "like"}, {field: "runnerClass", label: "Runner", filter: "like"},
      {field: "type", label: "Type", filter: "eq"}, {field: "status", label: "Status", filter: "eq"},
      {field: "attempts", label: "Attempts"}, {field: "nextRunDate", label: "Next run"},
      {label: "", render: (j, tt) => me.admin && j.status !== "Done" ? h("button", {type: "button", class: "secondary",
        onclick: async () => { if (await act("trigger " + j.name, () => Rest.call("TriggerGCJob", {uuid: j.uuid})) !== undefined) tt.load(); }}, "Run now") : ""},
    ]});
    t.load();
    keep(() => t.load(), 5000);
    return h("div", {}, h("h1", {}, "GC jobs"), t.el);
  }

  function hosts() {
    const GiB = 1024 ** 3;
    const chart = h("section", {class: "card", "aria-labelledby": "cap-h"}, h("h2", {id: "cap-h"}, "Capacity"), h("p", {}, "loading…"));
    const t = table({title: "Hosts", api: "QueryHost", columns: [
      {field: "name", label: "Name", filter: "like"}, {field: "managementIp", label: "IP", filter: "like"},
      {field: "state", label: "State", filter: "eq"}, {field: "status", label: "Status", filter: "eq"},
      {field: "cpuNum", label: "CPUs"}, {field: "totalMemory", label: "Memory (GiB)", render: x => (x.totalMemory / GiB).toFixed(1)},
    ], onRows: async rows => {
      /* capacity as the allocator sees it (CPUs after over-provisioning): all hosts, then the shown ones */
      const bar = (label, c) => [
        {label: label + " CPU", used: c.totalCpu - c.availableCpu, total: c.totalCpu, unit: "vCPUs"},
        {label: label + " memory", used: +((c.totalMemory - c.availableMemory) / GiB).toFixed(1), total: +(c.totalMemory / GiB).toFixed(1), unit: "GiB"}];
      const names = Object.fromEntries(rows.map(x => [x.uuid, x.name]));
      const items = [];
      try {
        items.push(...bar("all", await Rest.call("GetCpuMemoryCapacity", {all: true})));
        if (rows.length) {
          const per = await Rest.call("GetCpuMemoryCapacity", {hostUuids: rows.map(x => x.uuid)});
          for (const c of per.capacityData || []) items.push(...bar(names[c.resourceUuid] || c.resourceUuid, c));
        }
      } catch (e) { /* drawn with what was read */ }
      chart.replaceChildren(h("h2", {id: "cap-h"}, "Capacity (used / total)"),
        items.length ? bars("CPU and memory used per host", items) : h("p", {}, "no hosts"));
    }});
    t.load();
    return h("div", {}, h("h1", {}, "Hosts"), chart, t.el);
  }

  function license() {
    const root = h("div", {}, h("h1", {}, "License"), h("p", {}, "loading…"));
    Rest.call("GetLicenseInfo").then(doc => {
      const l = doc.inventory;
      let expiry = "never (no expiry)";
      if (l.expiredDate) {
        const days = Math.floor((new Date(l.expiredDate) - Date.now()) / 86400000);
        expiry = l.expiredDate + (isNaN(days) ? "" : days < 0 ? " — expired" : " — " + days + " days left");
      }
      root.replaceChildren(h("h1", {}, "License"), h("section", {class: "card", "aria-label": "license"}, facts([
        ["Type", l.licenseType], ["User", l.user], ["Expires", expiry], ["Expired", String(!!l.expired)],
        ["Hosts", l.hostNum + " (" + l.availableHostNum + " available)"], ["CPUs", l.cpuNum + " (" + l.availableCpuNum + " available)"],
        ["Issued", l.issuedDate], ["Management node", l.managementNodeUuid]])));
    }).catch(e => root.append(h("p", {class: "error"}, e.message)));
    return root;
  }

  function tags(me, [resource]) {
    const q = () => resource ? ["resourceUuid=" + resource] : [];
    const cols = [{field: "tag", label: "Tag", filter: "like"}, {field: "resourceType", label: "Resource type", filter: "eq"},
                  {field: "resourceUuid", label: "Resource", filter: "eq", uuid: true}, {field: "createDate", label: "Created"}];
    const sys = table({title: "System tags", api: "QuerySystemTag", columns: cols, q});
    const user = table({title: "User tags", api: "QueryUserTag", columns: cols, q});
    sys.load();
    user.load();
    const input = h("input", {id: "tags-resource", value: resource || "", pattern: "[0-9a-f]{32}", placeholder: "32 hex characters"});
    return h("div", {}, h("h1", {}, "Tags" + (resource ? " of " + resource : "")),
      h("form", {class: "filter card", role: "search", onsubmit: ev => { ev.preventDefault(); location.hash = "#/tags/" + input.value.trim(); }},
        h("label", {for: "tags-resource"}, "Resource UUID", input), h("button", {type: "submit"}, "Show tags")),
      sys.el, user.el);
  }

  return {tickets, ticket, jobs, notifications, gc, hosts, license, tags};
})();
