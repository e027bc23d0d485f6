/* app.js — the console's shell: login/logout, the session (kept in sessionStorage, gone with
 * the tab), its expiry (any ID.1001 answer returns to the login form), the hash router, the
 * unread-notification badge, and the timers of the page on screen. */
"use strict";

const App = (() => {
  const $ = id => document.getElementById(id);
  const ROUTES = {tickets: Pages.tickets, ticket: Pages.ticket, jobs: Pages.jobs, notifications: Pages.notifications,
                  gc: Pages.gc, hosts: Pages.hosts, license: Pages.license, tags: Pages.tags};
  let timers = [], me = null, unreadTimer = null;

  function stopTimers() {
    timers.forEach(clearInterval);
    timers = [];
  }

  function showLogin(message) {
    stopTimers();
    clearInterval(unreadTimer);
    me = null;
    sessionStorage.removeItem("zs-session");
    $("top").hidden = true;
    $("page").replaceChildren();
    $("login").hidden = false;
    $("login-error").textContent = message || "";
    $("login-name").focus();
  }

  async function refreshUnread() {
    if (!me) return;
    try {
      const doc = await Rest.call("QueryNotification", {q: ["status=Unread"], count: true});
      const badge = $("unread");
      badge.textContent = doc.total;
      badge.setAttribute("aria-label", doc.total + " unread notifications");
      badge.classList.toggle("zero", doc.total === 0);
    } catch (e) { /* an expired session is handled by Rest; others show on the next try */ }
  }

  function route() {
    if (!me) return;
    stopTimers();
    const parts = (location.hash.replace(/^#\/?/, "") || "tickets").split("/").map(decodeURIComponent);
    const page = ROUTES[parts[0]] ? parts[0] : "tickets";
    document.querySelectorAll("#nav a").forEach(a => {
      const on = a.getAttribute("href") === "#/" + (page === "ticket" ? "tickets" : page);
      if (on) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
    });
    const keep = (fn, ms) => timers.push(setInterval(fn, ms));
    $("page").replaceChildren(ROUTES[page](me, parts.slice(1), keep));
    $("page").dataset.page = page;
    document.title = page + " · ZStack console";
  }

  function enter(session) {
    me = session;
    Rest.setSession(session);
    sessionStorage.setItem("zs-session", JSON.stringify(session));
    $("login").hidden = true;
    $("top").hidden = false;
    $("who").textContent = session.name + (session.admin ? " (admin)" : "");
    refreshUnread();
    unreadTimer = setInterval(refreshUnread, 3000);
    route();
    $("main").focus();
  }

  async function login(ev) {
    ev.preventDefault();
    $("login-error").textContent = "";
    const name = $("login-name").value.trim();
    try {
      const password = await Sha512.hex($("login-password").value);
      const inv = (await Rest.call("LogInByAccount", {accountName: name, password})).inventory;
      Rest.setSession({uuid: inv.uuid});
      const acct = (await Rest.call("QueryAccount", {q: ["uuid=" + inv.accountUuid]})).inventories[0] || {};
      $("login-password").value = "";
      enter({uuid: inv.uuid, accountUuid: inv.accountUuid, name: acct.name || name, admin: acct.type === "SystemAdmin"});
    } catch (e) {
      Rest.setSession(null);
      $("login-error").textContent = e.message;
    }
  }

  async function logout() {
    const s = Rest.getSession();
    try { if (s) await Rest.call("LogOut", {sessionUuid: s.uuid}); } catch (e) { /* gone already */ }
    Rest.setSession(null);
    showLogin("You are logged out.");
  }

  function start() {
    Rest.onSessionExpired(() => showLogin("Your session expired: log in again."));
    $("login-form").addEventListener("submit", login);
    $("logout").addEventListener("click", logout);
    window.addEventListener("hashchange", route);
    let saved = null;
    try { saved = JSON.parse(sessionStorage.getItem("zs-session")); } catch (e) { saved = null; }
    if (saved && saved.uuid) enter(saved); else showLogin();
  }

  document.addEventListener("DOMContentLoaded", start);
  return {refreshUnread, rerender: route};
})();
