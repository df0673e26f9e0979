// Telegram-formatted text to DOM nodes, from the plain text and its entities.
// Never innerHTML: every piece of text becomes a text node, and only Telegram's own
// formatting (the entity types below) becomes elements. Links are kept to safe schemes.

const SAFE_URL = /^(https?:|tg:|mailto:)/i;

export function safeUrl(url) {
  if (typeof url !== "string") return null;
  const trimmed = url.trim();
  if (SAFE_URL.test(trimmed)) return trimmed;
  if (/^[\w.-]+\.[a-z]{2,}(\/|$)/i.test(trimmed)) return "http://" + trimmed;
  return null;
}

function link(href, onCommand) {
  const a = document.createElement("a");
  const safe = safeUrl(href);
  if (safe) {
    a.href = safe;
    a.target = "_blank";
    a.rel = "noopener noreferrer nofollow";
  }
  return a;
}

function elementFor(entity, text, options) {
  let el;
  switch (entity.type) {
    case "bold": el = document.createElement("b"); break;
    case "italic": el = document.createElement("i"); break;
    case "underline": el = document.createElement("u"); break;
    case "strikethrough": el = document.createElement("s"); break;
    case "spoiler":
      el = document.createElement("span");
      el.className = "spoiler";
      el.title = "spoiler";
      el.addEventListener("click", () => el.classList.add("revealed"));
      break;
    case "code": el = document.createElement("code"); break;
    case "pre": {
      el = document.createElement("pre");
      if (entity.language && /^[\w+#-]{1,32}$/.test(entity.language)) {
        el.dataset.language = entity.language;
      }
      break;
    }
    case "blockquote":
    case "expandable_blockquote":
      el = document.createElement("blockquote");
      if (entity.type === "expandable_blockquote") el.className = "expandable";
      break;
    case "text_link": el = link(entity.url); break;
    case "url": el = link(text); break;
    case "email": el = link("mailto:" + text); break;
    case "bot_command": {
      el = document.createElement("a");
      el.href = "#";
      el.className = "command";
      el.addEventListener("click", (event) => {
        event.preventDefault();
        if (options.onCommand) options.onCommand(text.split("@")[0]);
      });
      break;
    }
    case "mention":
    case "text_mention":
    case "hashtag":
    case "cashtag":
    case "phone_number":
      el = document.createElement("span");
      el.className = "mention";
      break;
    default:
      el = document.createElement("span");
  }
  return el;
}

// Entities may nest (bold inside a link); offsets and lengths are UTF-16 units, as JS strings.
// Telegram's apps also mark commands and links the sender did not format; do the same
// where no entity covers the text already.
const AUTO = /(^|[\s(])(\/[a-zA-Z0-9_]{1,32}(?:@\w+)?|https?:\/\/[^\s<>"]+[^\s<>".,;:!?)])/g;

function autoEntities(text, given) {
  const found = [];
  for (const match of text.matchAll(AUTO)) {
    const offset = match.index + match[1].length;
    const length = match[2].length;
    const overlaps = given.some((e) => offset < e.offset + e.length && e.offset < offset + length);
    if (!overlaps) found.push({ type: match[2][0] === "/" ? "bot_command" : "url", offset, length });
  }
  return found;
}

export function renderText(text, entities, options = {}) {
  const fragment = document.createDocumentFragment();
  const given = (entities || []).filter((e) => e && e.length > 0 && e.offset >= 0);
  const list = given.concat(autoEntities(text, given))
    .slice()
    .sort((a, b) => a.offset - b.offset || b.length - a.length);

  function build(start, end, items, parent) {
    let pos = start;
    let i = 0;
    while (i < items.length) {
      const entity = items[i];
      const from = Math.max(entity.offset, pos);
      const to = Math.min(entity.offset + entity.length, end);
      if (from > pos) parent.appendChild(document.createTextNode(text.slice(pos, from)));
      let j = i + 1;
      const inner = [];
      while (j < items.length && items[j].offset < to) {
        inner.push(items[j]);
        j += 1;
      }
      if (to > from) {
        const el = elementFor(entity, text.slice(from, to), options);
        build(from, to, inner, el);
        parent.appendChild(el);
      }
      pos = Math.max(pos, to);
      i = j;
    }
    if (pos < end) parent.appendChild(document.createTextNode(text.slice(pos, end)));
  }

  build(0, text.length, list, fragment);
  return fragment;
}

export function formatSize(bytes) {
  if (bytes < 1024) return bytes + " B";
  if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(1) + " KB";
  return (bytes / 1024 / 1024).toFixed(1) + " MB";
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}
