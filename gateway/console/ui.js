/* ui.js — small DOM helpers the pages share: element building, announcements, server-side
 * paged/sorted/filtered tables over a query API, progress bars, bar charts (inline SVG). */
"use strict";

const UI = (() => {
  /* h("button", {type: "button", onclick: f}, "text", child...) -> element */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else if (k === "class") el.className = v;
      else el.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat(Infinity)) {
      if (c !== undefined && c !== null && c !== false) el.append(c instanceof Node ? c : String(c));
    }
    return el;
  }

  const svg = (tag, attrs, ...children) => {
    const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
    for (const c of children.flat(Infinity)) el.append(c instanceof Node ? c : String(c));
    return el;
  };

  let statusTimer;
  /* Says `text` in the live region (screen readers read it) for a few seconds. */
  function say(text) {
    const s = document.getElementById("status");
    s.textContent = text;
    clearTimeout(statusTimer);
    statusTimer = setTimeout(() => { s.textContent = ""; }, 5000);
  }

  /* Runs an action: announces its outcome; returns its result or undefined on failure. */
  async function act(what, fn) {
    try {
      const out = await fn();
      say(what + ": done");
      return out;
    } catch (e) {
      say(what + " failed: " + e.message);
      return undefined;
    }
  }

  function progress(percent, label) {
    const bar = h("span");
    bar.style.width = Math.max(0, Math.min(100, percent)) + "%";
    return h("span", {class: "progress", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100,
                      "aria-valuenow": Math.round(percent), "aria-label": label || "progress"}, bar);
  }

  /* A table over query API `api`, paged, sorted and filtered by the server.
   * opts: {title, api, columns: [{field, label, render(row), filter: "like"|"eq"}],
   *        q(): fixed conditions, limit, sort: [field, "asc"|"desc"], actions(row, table): nodes,
   *        rowClass(row), onRows(rows)} */
  function table(opts) {
    const id = "t" + Math.random().toString(36).slice(2, 8);
    let start = 0, total = 0, sort = opts.sort || ["createDate", "desc"], filter = null;
    const limit = opts.limit || 10;
    const body = h("tbody");
    const info = h("span", {"aria-live": "polite"});
    const prev = h("button", {type: "button", class: "secondary", onclick: () => { start = Math.max(0, start - limit); load(); }}, "Previous");
    const next = h("button", {type: "button", class: "secondary", onclick: () => { start += limit; load(); }}, "Next");
    const heads = opts.columns.map(c => {
      const th = h("th", {scope: "col"});
      if (c.field) {
        th.append(h("button", {type: "button", onclick: () => {
          sort = [c.field, sort[0] === c.field && sort[1] === "asc" ? "desc" : "asc"];
          start = 0;
          load();
        }}, c.label));
      } else {
        th.append(c.label);
      }
      th.dataset.field = c.field || "";
      return th;
    });
    const filterable = opts.columns.filter(c => c.filter);
    const fieldSel = h("select", {id: id + "-field"}, filterable.map(c => h("option", {value: c.field}, c.label)));
    const valueIn = h("input", {id: id + "-value", type: "search", placeholder: "value"});
    const form = h("form", {class: "filter", role: "search", onsubmit: ev => {
      ev.preventDefault();
      const col = filterable.find(c => c.field === fieldSel.value);
      const v = valueIn.value.trim();
      filter = !v ? null : col.filter === "eq" ? col.field + "=" + v : col.field + "~=%" + v + "%";
      start = 0;
      load();
    }},
      h("label", {for: id + "-field"}, "Filter by", fieldSel),
      h("label", {for: id + "-value"}, "contains", valueIn),
      h("button", {type: "submit"}, "Apply"));
    const caption = h("caption", {class: "skip"}, opts.title);
    const el = h("section", {class: "card", "aria-labelledby": id + "-h"},
      h("h2", {id: id + "-h"}, opts.title),
      filterable.length ? form : null,
      h("table", {id}, caption, h("thead", {}, h("tr", {}, heads)), body),
      h("div", {class: "pager"}, prev, next, info));

    async function load() {
      const q = (opts.q ? opts.q() : []).concat(filter ? [filter] : []);
      let doc;
      try {
        doc = await Rest.call(opts.api, {q, limit, start, sortBy: sort[0], sortDirection: sort[1], replyWithCount: true});
      } catch (e) {
        info.textContent = "could not load: " + e.message;
        return;
      }
      const rows = doc.inventories || [];
      total = doc.total || 0;
      heads.forEach(th => {
        if (th.dataset.field === sort[0]) th.setAttribute("aria-sort", sort[1] === "asc" ? "ascending" : "descending");
        else th.removeAttribute("aria-sort");
      });
      body.replaceChildren(...rows.map(row => {
        const tr = h("tr", {class: opts.rowClass ? opts.rowClass(row) : null, "data-uuid": row.uuid},
          opts.columns.map(c => h("td", {class: c.uuid ? "uuid" : null},
            c.render ? c.render(row, api) : (row[c.field] ?? ""))));
        return tr;
      }));
      if (!rows.length) body.append(h("tr", {}, h("td", {colspan: opts.columns.length}, "nothing to show")));
      info.textContent = total ? (start + 1) + "–" + (start + rows.length) + " of " + total : "0 rows";
      prev.disabled = start === 0;
      next.disabled = start + rows.length >= total;
      if (opts.onRows) opts.onRows(rows, api);
    }
    const api = {el, load};
    return api;
  }

  /* Horizontal bars: items [{label, used, total, unit}] -> an accessible SVG chart. */
  function bars(title, items) {
    const rowH = 26, labelW = 150, barW = 320, width = labelW + barW + 140;
    const chart = svg("svg", {class: "chart", role: "img", "aria-label": title, width: "100%",
                              viewBox: "0 0 " + width + " " + (items.length * rowH + 8), preserveAspectRatio: "xMinYMin meet"},
      svg("title", {}, title),
      items.map((it, i) => {
        const y = 4 + i * rowH, frac = it.total > 0 ? Math.max(0, Math.min(1, it.used / it.total)) : 0;
        return svg("g", {},
          svg("text", {x: 0, y: y + 15}, it.label),
          svg("rect", {x: labelW, y, width: barW, height: 18, fill: "#e3e7ee", rx: 3}),
          svg("rect", {x: labelW, y, width: Math.round(barW * frac), height: 18, fill: frac > 0.85 ? "#b3261e" : "#1f5fbf", rx: 3}),
          svg("text", {x: labelW + barW + 8, y: y + 15}, it.used + " / " + it.total + " " + (it.unit || "")));
      }));
    return chart;
  }

  return {h, say, act, progress, table, bars};
})();
