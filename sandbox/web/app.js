// The sandbox's web chat: a small Telegram-like client over the emulator's control API.
// Reads: /world/info, /control/chats, /control/chats/{id}/messages and /topics.
// Acts: /control/send (as the person chosen in "You are"), /control/press.
// Live: server-sent events from /control/events.

import { el, formatSize, renderText, safeUrl } from "./render.js";
import { initWorld, refreshWorld } from "./world.js";

const state = {
  info: null,
  me: null,
  chats: new Map(), // id -> chat (control view)
  topics: new Map(), // chat id -> Map(thread id -> topic)
  messages: new Map(), // chat id -> Map(message id -> message)
  loaded: new Set(), // chat ids whose history was fetched
  current: null, // {chatId, threadId}
  unread: new Map(), // "chat:thread" -> count
  replyTo: null,
  typing: new Map(), // chat id -> timeout handle
};

const $ = (id) => document.getElementById(id);

async function api(path, body) {
  const options = body === undefined ? {} : {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  };
  const response = await fetch(path, options);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || data.description || response.statusText);
  return data;
}

export function toast(text, kind = "info") {
  const node = el("div", { class: `toast ${kind}`, role: kind === "alert" ? "alert" : "status" },
    text);
  $("toasts").appendChild(node);
  setTimeout(() => node.remove(), kind === "alert" ? 6000 : 3500);
}

// ---- people and chats ------------------------------------------------------------------

function member(id) {
  return state.info.cast.find((m) => m.id === id);
}

function displayName(user) {
  if (!user) return "?";
  if (user.is_bot) return user.first_name;
  const known = member(user.id);
  return known ? known.first_name : [user.first_name, user.last_name].filter(Boolean).join(" ");
}

function key(chatId, threadId) {
  return `${chatId}:${threadId ?? ""}`;
}

function visibleChats() {
  const me = state.me;
  const list = [];
  const own = state.chats.get(me);
  if (own) list.push(own);
  for (const chat of state.chats.values()) {
    if (chat.type !== "private" && chat.members.includes(me)) list.push(chat);
  }
  return list;
}

function chatTitle(chat) {
  if (chat.type === "private") return state.info.bot.first_name;
  return chat.title;
}

// Avatars take whole graphemes: slicing a JS string cuts an emoji between its two UTF-16
// halves ("#\ud83c" shows as "#�"). Intl.Segmenter keeps flags and ZWJ sequences whole;
// without it, code points at least never split a surrogate pair.
const graphemes = typeof Intl.Segmenter === "function"
  ? new Intl.Segmenter(undefined, { granularity: "grapheme" }) : null;

function firstGrapheme(word) {
  if (graphemes) {
    for (const { segment } of graphemes.segment(word)) return segment;
    return "";
  }
  return Array.from(word)[0] ?? "";
}

const LETTER = /[\p{L}\p{N}]/u;

// "QuickCart Ops" -> "QO"; "🆕 QC-000003 · P1 · Budi" -> "🆕" (an emoji or a sign in front
// stands alone, as a topic's icon does in Telegram).
function initials(text) {
  const words = (text || "").split(/\s+/).filter(Boolean);
  if (!words.length) return "?";
  const first = firstGrapheme(words[0]);
  if (!LETTER.test(first)) return first;
  return words.slice(0, 2).map(firstGrapheme).filter((g) => LETTER.test(g)).join("")
    .toUpperCase();
}

function lastMessage(chatId, threadId) {
  const messages = state.messages.get(chatId);
  if (!messages) return null;
  let last = null;
  for (const m of messages.values()) {
    if (m.deleted || m.is_service) continue;
    if (threadId !== undefined && (m.message_thread_id ?? null) !== threadId) continue;
    if (!last || m.message_id > last.message_id) last = m;
  }
  return last;
}

function preview(message) {
  if (!message) return "";
  const text = message.text ?? message.caption ?? (message.photo ? "📷 Photo" : "📎 File");
  const who = message.chat.type === "private" ? "" : displayName(message.from) + ": ";
  return who + text.replace(/\s+/g, " ").slice(0, 80);
}

function chatItem(chat, threadId, title, subtitle, extraClass = "", avatar = initials(title)) {
  const k = key(chat.id, threadId);
  const active = state.current && key(state.current.chatId, state.current.threadId) === k;
  const unread = state.unread.get(k) || 0;
  return el("button", {
    type: "button",
    class: `chat-item ${extraClass}${active ? " active" : ""}`,
    dataset: { chat: String(chat.id), thread: threadId == null ? "" : String(threadId) },
    onclick: () => openChat(chat.id, threadId),
  },
  el("div", { class: `avatar small${LETTER.test(avatar) ? "" : " emoji"}` }, avatar),
  el("div", { class: "chat-item-text" },
    el("div", { class: "chat-item-title" }, title),
    el("div", { class: "chat-item-preview" }, subtitle)),
  unread ? el("span", { class: "badge" }, String(unread)) : null);
}

function renderChatList() {
  const nav = $("chat-list");
  nav.replaceChildren();
  for (const chat of visibleChats()) {
    if (chat.is_forum) {
      nav.appendChild(el("div", { class: "forum-title" }, "💬 " + chat.title));
      nav.appendChild(chatItem(chat, null, "General", preview(lastMessage(chat.id, null)),
        "topic"));
      const topics = [...(state.topics.get(chat.id) || new Map()).values()]
        .filter((t) => !t.deleted)
        .sort((a, b) => b.message_thread_id - a.message_thread_id);
      for (const topic of topics) {
        const name = (topic.closed ? "🔒 " : "# ") + topic.name;
        nav.appendChild(chatItem(chat, topic.message_thread_id, name,
          preview(lastMessage(chat.id, topic.message_thread_id)), "topic", initials(topic.name)));
      }
    } else {
      nav.appendChild(chatItem(chat, null, chatTitle(chat), preview(lastMessage(chat.id))));
    }
  }
}

function renderYouAre() {
  const select = $("you-are");
  select.replaceChildren(...state.info.cast.map((m) =>
    el("option", { value: String(m.id), selected: m.id === state.me },
      `${m.first_name} — ${m.title}`)));
}

// ---- data ---------------------------------------------------------------------------------

async function loadChats() {
  const chats = await api("/control/chats");
  state.chats = new Map(chats.map((c) => [c.id, c]));
  for (const chat of chats) {
    if (chat.is_forum) {
      const topics = await api(`/control/chats/${chat.id}/topics`);
      state.topics.set(chat.id, new Map(topics.map((t) => [t.message_thread_id, t])));
    }
  }
}

async function loadMessages(chatId) {
  const list = await api(`/control/chats/${chatId}/messages?include_deleted=1`);
  state.messages.set(chatId, new Map(list.map((m) => [m.message_id, m])));
  state.loaded.add(chatId);
}

function store(message) {
  const chatId = message.chat.id;
  if (!state.messages.has(chatId)) state.messages.set(chatId, new Map());
  state.messages.get(chatId).set(message.message_id, message);
}

// ---- the conversation -------------------------------------------------------------------

function inCurrent(message) {
  const cur = state.current;
  if (!cur || message.chat.id !== cur.chatId) return false;
  const chat = state.chats.get(cur.chatId);
  if (!chat || !chat.is_forum) return true;
  return (message.message_thread_id ?? null) === cur.threadId;
}

function time(date) {
  return new Date(date * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function serviceText(message) {
  if (message.forum_topic_created) return `Topic “${message.forum_topic_created.name}” created`;
  if (message.forum_topic_edited) return "Topic edited";
  if (message.forum_topic_closed) return "Topic closed";
  if (message.forum_topic_reopened) return "Topic reopened";
  return "Service message";
}

function keyboard(message) {
  const rows = message.reply_markup?.inline_keyboard;
  if (!rows || !rows.length) return null;
  return el("div", { class: "keyboard" }, ...rows.map((row) => el("div", { class: "kb-row" },
    ...row.map((button) => {
      const url = button.url ? safeUrl(button.url) : null;
      return el("button", {
        type: "button",
        class: "kb-button",
        dataset: { data: button.callback_data || "" },
        onclick: () => pressButton(message, button, url),
      }, button.text + (url ? " ↗" : ""));
    }))));
}

async function pressButton(message, button, url) {
  if (url) {
    window.open(url, "_blank", "noopener");
    return;
  }
  if (!button.callback_data) {
    toast("This button does nothing in the sandbox.");
    return;
  }
  try {
    await api("/control/press", {
      user_id: state.me,
      chat_id: message.chat.id,
      message_id: message.message_id,
      data: button.callback_data,
    });
  } catch (error) {
    toast(error.message, "error");
  }
}

function replyQuote(message) {
  const replied = message.reply_to_message;
  if (!replied) return null;
  const text = replied.text ?? replied.caption ?? (replied.photo ? "📷 Photo" : "📎 File");
  return el("div", { class: "reply-quote" },
    el("div", { class: "reply-author" }, displayName(replied.from)),
    el("div", { class: "reply-snippet" }, text.slice(0, 120)));
}

function media(message) {
  if (message.photo) {
    const best = message.photo[message.photo.length - 1];
    return el("a", { href: `/world/files/${encodeURIComponent(best.file_id)}`, target: "_blank",
      class: "photo" },
    el("img", { src: `/world/files/${encodeURIComponent(best.file_id)}`, alt: "photo",
      loading: "lazy" }));
  }
  if (message.document) {
    const doc = message.document;
    return el("a", { class: "document", href: `/world/files/${encodeURIComponent(doc.file_id)}`,
      download: doc.file_name || "document" },
    el("span", { class: "doc-icon" }, "📄"),
    el("span", { class: "doc-meta" },
      el("span", { class: "doc-name" }, doc.file_name || "document"),
      el("span", { class: "doc-size" }, formatSize(doc.file_size || 0))));
  }
  return null;
}

function messageNode(message) {
  if (message.is_service) {
    return el("div", { class: "service", dataset: { messageId: String(message.message_id) } },
      el("span", {}, serviceText(message)));
  }
  const mine = message.from.id === state.me;
  const fromBot = message.from.is_bot;
  const chat = message.chat;
  const text = message.text ?? message.caption;
  const entities = message.text != null ? message.entities : message.caption_entities;
  const body = text ? el("div", { class: "text" }) : null;
  if (body) body.appendChild(renderText(text, entities, { onCommand: sendCommand }));
  const showName = chat.type !== "private" && !mine;
  const bubble = el("div", { class: "bubble" },
    showName ? el("div", { class: `author${fromBot ? " bot" : ""}` }, displayName(message.from))
      : null,
    replyQuote(message),
    media(message),
    body,
    el("div", { class: "meta" },
      message.edit_date ? el("span", { class: "edited" }, "edited") : null,
      el("span", { class: "time" }, time(message.date)),
      el("button", { type: "button", class: "reply-button", title: "Reply",
        onclick: () => startReply(message) }, "↩")));
  return el("div", {
    class: `message ${mine ? "out" : "in"}${fromBot ? " from-bot" : ""}`,
    dataset: { messageId: String(message.message_id), from: String(message.from.id) },
  }, bubble, keyboard(message));
}

function renderMessages({ keepScroll = false } = {}) {
  const box = $("messages");
  const cur = state.current;
  if (!cur) {
    box.replaceChildren(el("div", { class: "empty" }, "Pick a chat on the left."));
    return;
  }
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  const list = [...(state.messages.get(cur.chatId) || new Map()).values()]
    .filter((m) => !m.deleted && inCurrent(m))
    .sort((a, b) => a.message_id - b.message_id);
  box.replaceChildren(...list.map(messageNode));
  if (!list.length) box.appendChild(el("div", { class: "empty" }, "No messages here yet."));
  if (!keepScroll || atBottom) box.scrollTop = box.scrollHeight;
}

function renderHead() {
  const cur = state.current;
  if (!cur) return;
  const chat = state.chats.get(cur.chatId);
  let title = chatTitle(chat);
  let subtitle;
  if (chat.type === "private") subtitle = "bot · @" + state.info.bot.username;
  else subtitle = `${chat.members.length} members`;
  if (chat.is_forum) {
    const topic = cur.threadId == null ? null : state.topics.get(chat.id)?.get(cur.threadId);
    subtitle = `${chat.title} · ${topic ? (topic.closed ? "closed topic" : "topic") : "General"}`;
    title = topic ? topic.name : "General";
  }
  if (state.typing.has(chat.id)) subtitle = "typing…";
  $("conversation-title").textContent = title;
  $("conversation-subtitle").textContent = subtitle;
  const avatar = initials(title);
  $("conversation-avatar").textContent = avatar;
  $("conversation-avatar").classList.toggle("emoji", !LETTER.test(avatar));
}

// On a phone one pane shows at a time: the list of chats or the conversation (CSS decides
// from #app's data-view; on a wide screen both show).
function showPane(view) {
  $("app").dataset.view = view;
}

async function openChat(chatId, threadId = null) {
  state.current = { chatId, threadId };
  showPane("chat");
  state.unread.delete(key(chatId, threadId));
  state.replyTo = null;
  $("reply-bar").hidden = true;
  if (!state.loaded.has(chatId)) await loadMessages(chatId);
  renderHead();
  renderMessages();
  renderChatList();
  $("composer-input").focus();
}

// ---- acting as the chosen person --------------------------------------------------------

function startReply(message) {
  state.replyTo = message.message_id;
  $("reply-text").textContent = (message.text ?? message.caption ?? "").slice(0, 80);
  $("reply-bar").hidden = false;
  $("composer-input").focus();
}

async function send(fields) {
  const cur = state.current;
  if (!cur) return;
  const body = { user_id: state.me, chat_id: cur.chatId, ...fields };
  if (cur.threadId != null) body.thread_id = cur.threadId;
  if (state.replyTo) body.reply_to = state.replyTo;
  try {
    const message = await api("/control/send", body);
    store(message);
    state.replyTo = null;
    $("reply-bar").hidden = true;
    renderMessages();
  } catch (error) {
    toast(error.message, "error");
  }
}

function sendCommand(command) {
  send({ text: command });
}

async function sendFile(input, kind) {
  const file = input.files[0];
  input.value = "";
  if (!file) return;
  const buffer = new Uint8Array(await file.arrayBuffer());
  let binary = "";
  for (let i = 0; i < buffer.length; i += 0x8000) {
    binary += String.fromCharCode(...buffer.subarray(i, i + 0x8000));
  }
  const caption = $("composer-input").value.trim();
  $("composer-input").value = "";
  await send({
    [kind]: { base64: btoa(binary), file_name: file.name, mime_type: file.type || undefined },
    caption: caption || undefined,
  });
}

function switchPerson(id) {
  state.me = id;
  localStorage.setItem("qc.me", String(id));
  state.unread.clear();
  const cur = state.current;
  const visible = cur && visibleChats().some((c) => c.id === cur.chatId);
  renderYouAre();
  if (visible) {
    renderMessages();
    renderChatList();
  } else {
    openChat(id, null);
  }
}

// ---- live updates -------------------------------------------------------------------------

function onMessage(message, isNew) {
  store(message);
  const chatId = message.chat.id;
  if (isNew && state.typing.has(chatId)) {
    clearTimeout(state.typing.get(chatId));
    state.typing.delete(chatId);
    renderHead();
  }
  if (inCurrent(message)) {
    renderMessages({ keepScroll: true });
    if (!isNew) {
      const node = document.querySelector(`#messages [data-message-id="${message.message_id}"]`);
      if (node) node.classList.add("flash");
    }
  } else if (isNew && message.from.id !== state.me && !message.is_service) {
    const k = key(chatId, state.chats.get(chatId)?.is_forum ? message.message_thread_id ?? null
      : null);
    state.unread.set(k, (state.unread.get(k) || 0) + 1);
  }
  renderChatList();
}

function connect() {
  const source = new EventSource("/control/events");
  const status = $("connection");
  source.onopen = async () => {
    status.textContent = "● live";
    status.classList.add("live");
    await loadChats();
    if (state.current) await loadMessages(state.current.chatId);
    renderChatList();
    renderMessages({ keepScroll: true });
  };
  source.onerror = () => {
    status.textContent = "○ reconnecting…";
    status.classList.remove("live");
  };
  source.addEventListener("message_new", (e) => onMessage(JSON.parse(e.data).message, true));
  source.addEventListener("message_edited", (e) => onMessage(JSON.parse(e.data).message, false));
  source.addEventListener("message_deleted", (e) => {
    const data = JSON.parse(e.data);
    const message = state.messages.get(data.chat_id)?.get(data.message_id);
    if (message) message.deleted = true;
    renderMessages({ keepScroll: true });
    renderChatList();
  });
  for (const kind of ["topic_created", "topic_edited", "topic_closed", "topic_reopened",
    "topic_deleted"]) {
    source.addEventListener(kind, (e) => {
      const data = JSON.parse(e.data);
      if (!state.topics.has(data.chat_id)) state.topics.set(data.chat_id, new Map());
      state.topics.get(data.chat_id).set(data.topic.message_thread_id, data.topic);
      renderChatList();
      renderHead();
    });
  }
  source.addEventListener("chat_action", (e) => {
    const data = JSON.parse(e.data);
    clearTimeout(state.typing.get(data.chat_id));
    state.typing.set(data.chat_id, setTimeout(() => {
      state.typing.delete(data.chat_id);
      renderHead();
    }, 5000));
    renderHead();
  });
  source.addEventListener("callback_answered", (e) => {
    const data = JSON.parse(e.data);
    if (data.user_id === state.me && data.text) toast(data.text, data.show_alert ? "alert" : "info");
  });
  source.addEventListener("world_changed", () => refreshWorld());
}

// ---- start -------------------------------------------------------------------------------

async function main() {
  state.info = await api("/world/info");
  const saved = Number(new URLSearchParams(location.search).get("as")
    || localStorage.getItem("qc.me"));
  state.me = member(saved) ? saved : state.info.cast[0].id;
  renderYouAre();
  await loadChats();
  for (const chatId of state.chats.keys()) await loadMessages(chatId);
  renderChatList();
  await openChat(state.me, null);
  $("you-are").addEventListener("change", (e) => switchPerson(Number(e.target.value)));
  $("composer").addEventListener("submit", (e) => {
    e.preventDefault();
    const input = $("composer-input");
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    send({ text });
  });
  $("composer-input").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      $("composer").requestSubmit();
    }
  });
  $("back-to-chats").addEventListener("click", () => showPane("list"));
  $("reply-cancel").addEventListener("click", () => {
    state.replyTo = null;
    $("reply-bar").hidden = true;
  });
  $("attach-photo").addEventListener("change", (e) => sendFile(e.target, "photo"));
  $("attach-document").addEventListener("change", (e) => sendFile(e.target, "document"));
  initWorld({ api, toast, info: state.info });
  connect();
  document.body.dataset.ready = "true";
}

main().catch((error) => {
  document.body.dataset.ready = "error";
  toast("The sandbox page could not start: " + error.message, "error");
});
