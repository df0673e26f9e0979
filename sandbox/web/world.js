// The world panel: change the demo QuickCart and watch the bot react.

import { el, formatSize } from "./render.js";

let ctx = null;
let timer = null;
let ticker = null;
let clock = null; // the demo clock at the last refresh: {demo, real, speed, timeZone, zone}

const $ = (id) => document.getElementById(id);

const SPEEDS = [1, 10, 60, 600];

function actionButton(label, action, value, extra = {}) {
  return el("button", {
    type: "button",
    class: `world-action${extra.danger ? " danger" : ""}${extra.active ? " active" : ""}`,
    dataset: { action },
    disabled: extra.disabled,
    title: extra.title,
    onclick: () => act(action, value),
  }, label);
}

async function act(action, value) {
  try {
    const view = await ctx.api("/world/action", { action, value });
    render(view);
  } catch (error) {
    ctx.toast(error.message, "error");
  }
}

// The e-mail stand-in: a form built once (a refresh must not wipe what is being typed) and the
// lists of the support mailbox and of the answers the bot mailed.
let mailForm = null;
let replyTo = "";
const openMails = new Set(); // the answers unfolded: they stay so across refreshes

function mailFormNode() {
  if (mailForm) return mailForm;
  const field = (id, attrs) => el("input", { id, class: "world-input", ...attrs });
  const from = field("mail-from", { type: "email", value: "budi.santoso@gmail.com",
    "aria-label": "From (the customer's address)", placeholder: "customer@example.com" });
  const name = field("mail-name", { value: "Budi Santoso", "aria-label": "Name",
    placeholder: "Name" });
  const subject = field("mail-subject", { value: "Pesanan belum sampai", "aria-label": "Subject",
    placeholder: "Subject" });
  const text = el("textarea", { id: "mail-text", class: "world-input", rows: "3",
    "aria-label": "Text", placeholder: "What the customer writes" });
  const note = el("p", { class: "world-note", id: "mail-replying" });
  mailForm = el("form", { class: "world-mail-form", onsubmit: async (event) => {
    event.preventDefault();
    try {
      const view = await ctx.api("/world/mail", { from: from.value, name: name.value,
        subject: subject.value, text: text.value, in_reply_to: replyTo });
      text.value = "";
      replyTo = "";
      note.textContent = "";
      ctx.toast("E-mail sent to the support address");
      if (view.clock) render(view);
    } catch (error) {
      ctx.toast(error.message, "error");
    }
  } }, from, name, subject, text, note,
  el("button", { type: "submit", class: "world-action", id: "mail-send" },
    "Send an e-mail as this customer"));
  return mailForm;
}

function replyToMail(sent) {
  replyTo = sent.message_id;
  document.getElementById("mail-subject").value = sent.subject;
  document.getElementById("mail-replying").textContent = `Answering: ${sent.subject}`;
  document.getElementById("mail-text").focus();
}

function mailSection(mail) {
  if (!mail) return null;
  return section(`E-mail (${mail.address})`,
    el("p", { class: "world-note" }, "The sandbox's own mail servers: write to the support "
      + "address as a customer; the bot reads the mailbox (IMAP) and mails its answers (SMTP)."),
    mailFormNode(),
    el("h4", {}, "Support mailbox"),
    el("ul", { class: "world-list", id: "mail-inbox" }, ...mail.inbox.map((m) =>
      el("li", {}, `${m.read_by_bot ? "✓" : "…"} ${m.from} · ${m.subject}`))),
    el("h4", {}, "Answers the bot mailed"),
    el("div", { id: "mail-sent" }, ...mail.sent.map((s) =>
      el("details", { class: "world-mail", open: openMails.has(s.id), ontoggle: (event) => {
        if (event.target.open) openMails.add(s.id); else openMails.delete(s.id);
      } },
        el("summary", {}, `To ${s.to} · ${s.subject}`),
        el("pre", { class: "world-mail-text" }, s.text),
        el("button", { type: "button", class: "world-action", onclick: () => replyToMail(s) },
          "Reply as the customer")))));
}

function section(title, ...children) {
  return el("section", { class: "world-section" }, el("h3", {}, title), ...children);
}

function row(label, value) {
  return el("div", { class: "world-row" }, el("span", {}, label),
    el("strong", { class: "world-value" }, value));
}

// A time as the bot writes it: in its TIMEZONE (given by the server, never the browser's),
// `2026-12-01 19:20 WIB`.
export function botTime(ms, timeZone, zone) {
  const date = new Date(ms);
  let parts;
  try {
    parts = new Intl.DateTimeFormat("en-GB", {
      timeZone, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    }).formatToParts(date);
  } catch {
    return date.toISOString().slice(0, 16).replace("T", " ") + " UTC";
  }
  const p = Object.fromEntries(parts.map((part) => [part.type, part.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute} ${zone || timeZone}`;
}

// Between refreshes the clock moves on by itself, at the demo's speed.
function tick() {
  const node = document.querySelector("[data-clock]");
  if (!clock || !node) return;
  const now = clock.demo + (Date.now() - clock.real) * clock.speed;
  node.textContent = botTime(now, clock.timeZone, clock.zone);
}

function render(view) {
  const body = $("world-body");
  const mode = view.gateway.mode;
  const db = view.database;
  const disk = view.disk;
  const settings = Object.entries(ctx.info.settings || {});
  clock = { demo: Date.parse(view.clock.now), real: Date.now(), speed: view.clock.speed,
    timeZone: view.clock.timezone, zone: view.clock.zone };
  const now = row("Now", botTime(clock.demo, clock.timeZone, clock.zone));
  now.title = `${clock.timeZone}, the time zone the bot shows times in`;
  now.querySelector(".world-value").dataset.clock = "";
  body.replaceChildren(...[
    section("Demo clock",
      now,
      el("div", { class: "world-buttons" }, ...SPEEDS.map((s) =>
        actionButton(`${s}×`, "speed", s, { active: view.clock.speed === s }))),
      row("Next on-call handoff", view.clock.next_handoff
        ? botTime(Date.parse(view.clock.next_handoff), clock.timeZone, clock.zone) : "—"),
      el("div", { class: "world-buttons" },
        actionButton("Jump to the next handoff", "clock_next_handoff", null,
          { disabled: !view.clock.next_handoff }))),
    section("Payment gateway (Pakasir)",
      row("Mode", mode),
      el("div", { class: "world-buttons" },
        actionButton("Healthy", "gateway_ok", null, { active: mode === "answer" }),
        actionButton("Fail (503)", "gateway_fail", null, { danger: true, active: mode === "fail" }),
        actionButton("Slow (6 s)", "gateway_slow", null, { active: mode === "slow" }),
        actionButton("Hang", "gateway_hang", null, { danger: true, active: mode === "hang" }))),
    section("Payday outage",
      row("Customers writing", view.payday
        ? `${view.payday.written} / ${view.payday.customers}${view.payday.running ? " …" : ""}`
        : "—"),
      el("div", { class: "world-buttons" },
        actionButton("Payday outage (200 customers)", "payday_outage", 200,
          { danger: true, active: !!(view.payday && view.payday.running),
            title: "Pakasir fails and 200 demo customers write about failed payments" }))),
    section("Payments",
      row("Success, last hour", db.success_percent == null ? "—" : `${db.success_percent} %`),
      row("Target success rate", `${(view.success_rate * 100).toFixed(1)} %`),
      el("div", { class: "world-buttons" },
        actionButton("98.5 %", "success_rate", 0.985, { active: view.success_rate >= 0.985 }),
        actionButton("88 %", "success_rate", 0.88, { active: view.success_rate === 0.88 }),
        actionButton("50 %", "success_rate", 0.5, { danger: true,
          active: view.success_rate === 0.5 }),
        actionButton("Slow payments (2 min)", "payments_slow", null,
          { danger: true, active: view.slow_payments }),
        actionButton("Normal payment time", "payments_fast", null,
          { active: !view.slow_payments }))),
    section("Customers",
      row("Failing sessions", `${((view.session_failure ?? 0) * 100).toFixed(1)} %`),
      el("div", { class: "world-buttons" },
        actionButton("Break sessions", "sessions_fail", null,
          { danger: true, active: view.session_failure > 0.1 }),
        actionButton("Sessions work", "sessions_ok", null,
          { active: !(view.session_failure > 0.1) })),
      row("Demo customers in the chats", view.demo_customers
        ? `${view.demo_customers.customers} (${view.demo_customers.blocked} blocked the bot)` : "—"),
      el("p", { class: "world-note" }, "They write to the bot and press its buttons, as people do: "
        + "their tickets raise the complaint rate; a customer who blocks the bot makes Telegram "
        + "refuse its answer, and delivery drops."),
      el("div", { class: "world-buttons" },
        actionButton("4 customers complain", "complaints", null, { danger: true }),
        actionButton("8 customers block the bot", "customers_block", null, { danger: true }))),
    mailSection(view.mail),
    section("Fraud",
      row("Review queue", String(db.fraud_queue ?? "—")),
      el("div", { class: "world-buttons" },
        actionButton("Fraud slips through", "fraud_slips", null, { danger: true }),
        actionButton("Flood the review queue", "fraud_queue", null, { danger: true }),
        actionButton("False alarms", "fraud_false_alarms", null, { danger: true }))),
    section("Database",
      row("Orders", String(db.orders ?? "—")),
      row("Fraud review queue", String(db.fraud_queue ?? "—")),
      row("Trouble", (db.trouble || []).join(", ") || "none"),
      el("div", { class: "world-buttons" },
        actionButton("Start a slow query", "slow_query", null, { danger: true }),
        actionButton("Hold a lock", "lock", null, { danger: true }),
        actionButton("Release", "db_release"))),
    section("Disk",
      row("Demo disk used", disk.percent == null ? "unavailable" : `${disk.percent} %`),
      disk.available ? null : el("p", { class: "world-note" }, disk.reason),
      el("div", { class: "world-buttons" },
        actionButton("Fill the disk", "disk_fill", null,
          { danger: true, disabled: !disk.available, title: disk.reason || undefined }),
        actionButton("Clean up", "disk_clear", null, { disabled: !disk.available }))),
    section("Backups",
      el("ul", { class: "world-list" }, ...view.backups.map((b) =>
        el("li", {}, `${b.name} · ${formatSize(b.size)}`))),
      el("div", { class: "world-buttons" },
        actionButton("Delete last night's backup", "backup_delete_last", null, { danger: true }),
        actionButton("Back up now", "backup_now")),
      row("Backup heartbeat", view.backup_heartbeat.stopped ? "stopped: the job no longer pings"
        : (view.backup_heartbeat.sent.length ? `pinging (last: ${view.backup_heartbeat.sent.at(-1)})`
          : "pinging")),
      el("div", { class: "world-buttons" },
        actionButton("Stop backup heartbeat", "backup_heartbeat_stop", null,
          { danger: true, active: view.backup_heartbeat.stopped }),
        actionButton("Resume backup heartbeat", "backup_heartbeat_start", null,
          { active: !view.backup_heartbeat.stopped }))),
    section("Logs",
      row("app.log", `${formatSize(view.logs.size)}${view.logs.error_storm ? " · error storm" : ""}`),
      el("div", { class: "world-buttons" },
        actionButton("Flood with errors", "logs_errors", null, { danger: true }),
        actionButton("fraud_detected burst", "logs_fraud", null, { danger: true }),
        actionButton("Slow requests (6-9 s)", "web_slow", null,
          { danger: true, active: view.logs.slow }),
        actionButton("Calm", "logs_calm"))),
    view.last_error ? el("p", { class: "world-note error" }, view.last_error) : null,
    el("details", { class: "world-settings" }, el("summary", {}, "Settings the bot runs with"),
      el("dl", {}, ...settings.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]))),
  ].filter(Boolean));
}

export async function refreshWorld() {
  if (!ctx || $("world").hidden) return;
  try {
    render(await ctx.api("/world/state"));
  } catch (error) {
    $("world-body").replaceChildren(el("p", { class: "world-note" },
      "No demo world in this run: " + error.message));
  }
}

function show(open, remember = true) {
  $("world").hidden = !open;
  if (remember) localStorage.setItem("qc.world", open ? "1" : "0");
  clearInterval(timer);
  clearInterval(ticker);
  if (open) {
    refreshWorld();
    timer = setInterval(refreshWorld, 5000);
    ticker = setInterval(tick, 1000);
  }
}

// Where the panel would cover the chat (tablets, phones) it opens only when asked for.
const roomy = () => window.matchMedia("(min-width: 1101px)").matches;

export function initWorld(context) {
  ctx = context;
  $("world-toggle").addEventListener("click", () => show($("world").hidden));
  $("world-close").addEventListener("click", () => show(false));
  if (!ctx.info.world) $("world-toggle").hidden = true;
  else show(roomy() && localStorage.getItem("qc.world") !== "0", false);
}
