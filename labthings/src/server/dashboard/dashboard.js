// The LabThings dashboard: one card per Thing, built from the Thing Descriptions the server
// publishes, kept live over the server's shared WebSocket (`ws`, W3C Web Thing Protocol).
//
// Every URL is relative to the page's own directory, so that the page works when the server
// is mounted under a path prefix. No element gets inline styles or handlers: the server's
// Content-Security-Policy forbids them.

import { el, fieldRow, isBlobSchema, makeEditor, parseJson, schemaType, showValue, valueView } from './forms.js';
import { PropertyPlot, plots } from './plot.js';

/** The page's directory: the root of the API. */
const ROOT = new URL('./', location.href);
const TOKEN_KEY = 'labthings.token';
/** Invocations kept per action, and events per Thing, newest first. */
const MAX_INVOCATIONS = 5;
const MAX_EVENTS = 20;
/** Log lines shown per invocation (the server keeps up to 1,000). */
const MAX_LOG_LINES = 50;
/** Polling an invocation the WebSocket cannot follow, and a stream's frames when tokens are on. */
const POLL_MS = 300;
const FRAME_MS = 200;
/** The first and the longest delay before reconnecting the WebSocket. */
const BACKOFF_MS = [500, 10000];
const FINISHED = new Set(['completed', 'error', 'cancelled']);
const CONNECTION_LOST = 'the connection was lost before the server answered: the action may have started';

// ---- Small helpers ------------------------------------------------------------------------

/** The local time of an RFC 3339 timestamp, to the millisecond (the timestamp if unparsable). */
function showTime(timestamp) {
  const date = new Date(timestamp);
  if (Number.isNaN(date.getTime())) return String(timestamp ?? '');
  return date.toLocaleTimeString([], {
    hour12: false, hour: '2-digit', minute: '2-digit', second: '2-digit', fractionalSecondDigits: 3,
  });
}

/** A random UUID (`crypto.randomUUID` exists only in secure contexts, not on plain http). */
function uuid() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The `detail` of a problem (RFC 9457), or its `title`; '' for anything else. */
function problemText(problem) {
  return (problem && typeof problem === 'object' && (problem.detail || problem.title)) || '';
}

/**
 * A line showing the latest problem of one part of the page. `source` says what set it, so
 * that only a later success of the same kind clears it (a successful read does not hide the
 * problem of a failed write).
 */
class ProblemLine {
  constructor() {
    this.element = el('p', { class: 'problem', 'aria-live': 'polite' });
    this.source = null;
  }

  set(text, source = null) {
    this.element.textContent = text;
    this.source = source;
  }

  clear(source = null) {
    if (this.source === source) this.set('');
  }
}

// ---- Tokens -------------------------------------------------------------------------------

/** The bearer token the user gave, kept for this tab only. */
const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY) ?? '',
  set: (value) => sessionStorage.setItem(TOKEN_KEY, value),
};

/** The "This server needs a token" form, shown whenever a request is answered 401. */
const tokenPrompt = {
  form: document.getElementById('token-form'),
  waiting: [],

  /** Handle the form; `onToken` runs after each token the user enters. */
  init(onToken) {
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      const input = this.form.elements.token;
      token.set(input.value.trim());
      input.value = '';
      this.form.hidden = true;
      this.waiting.splice(0).forEach((resolve) => resolve());
      onToken();
    });
  },

  show(detail) {
    this.form.hidden = false;
    this.form.querySelector('.problem').textContent = detail;
  },

  /** Resolves once the user has entered a token. */
  next() {
    return new Promise((resolve) => this.waiting.push(resolve));
  },
};

// ---- HTTP ---------------------------------------------------------------------------------

/** A failed request; `message` is the problem's `detail` (or `title`). */
class Problem extends Error {
  constructor(status, body) {
    const text = typeof body === 'string' ? body.slice(0, 200) : problemText(body);
    super(text || `HTTP ${status}`);
    this.status = status;
  }
}

/** `fetch` with the bearer token; a failure throws a Problem (and a 401 asks for a token). */
async function request(url, init = {}) {
  const headers = { ...init.headers };
  if (token.get()) headers.Authorization = `Bearer ${token.get()}`;
  let response;
  try {
    response = await fetch(url, { ...init, headers });
  } catch (error) {
    throw new Problem(0, { detail: `the server cannot be reached (${error.message})` });
  }
  if (response.ok) return response;
  const problem = new Problem(response.status, parseJson(await response.text()));
  if (response.status === 401) tokenPrompt.show(problem.message);
  throw problem;
}

/** A JSON request: `body`, when given, is sent as JSON; returns the answer's JSON. */
async function api(url, method = 'GET', body = undefined) {
  const init = { method, headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await request(url, init);
  return parseJson(await response.text());
}

// ---- URLs from Thing Descriptions ---------------------------------------------------------

/**
 * `url` on the page's origin. The server builds absolute URLs (the TD `base`, blob links) from
 * its own scheme and the `Host` header; behind a proxy they may name another origin, which
 * the Content-Security-Policy would block: their path is then taken on the page's origin.
 */
function onPageOrigin(url) {
  const resolved = new URL(url, ROOT);
  if (resolved.origin === location.origin) return resolved.href;
  return new URL(resolved.pathname + resolved.search, location.origin).href;
}

/** A form `href` of a TD, resolved against its `base`. */
function resolveHref(td, href) {
  return onPageOrigin(new URL(href, td.base ?? ROOT));
}

/** Whether an HTTP form (not a WebSocket or Server-Sent Events one) does `op`. */
function httpFormDoes(form, op) {
  if (typeof form.href !== 'string' || form.subprotocol || /^wss?:/.test(form.href)) return false;
  return form.op === undefined || [form.op].flat().includes(op);
}

/** The form of an MJPEG stream, if the property is one. */
function streamForm(property) {
  return (property.forms ?? []).find((form) =>
    String(form.contentType ?? '').startsWith('multipart/x-mixed-replace'));
}

/** Whether the TD says clients need a bearer token. */
function usesBearer(td) {
  return Object.values(td.securityDefinitions ?? {}).some((scheme) => scheme.scheme === 'bearer');
}

/** The name of an affordance, its title when it says more, and its description as a tooltip. */
function label(name, affordance) {
  const title = affordance.title && affordance.title !== name ? affordance.title : null;
  return el('div', { class: 'label', title: affordance.description },
    el('span', { class: 'name', text: name }),
    title ? el('span', { class: 'title', text: title }) : null);
}

// ---- The WebSocket ------------------------------------------------------------------------

function showConnection(connected) {
  const indicator = document.getElementById('connection');
  indicator.textContent = connected ? 'connected' : 'reconnecting';
  indicator.className = `connection ${indicator.textContent}`;
}

/**
 * The server's shared WebSocket, on which every request names its Thing by `thingID`. It
 * reconnects with a growing delay; `onOpen` then subscribes again, resuming after the last
 * notification seen from each Thing so that no event is missed.
 */
class Socket {
  constructor() {
    this.ws = null;
    this.started = false;
    this.timer = 0;
    this.delay = BACKOFF_MS[0];
    /** correlationID → function(response, or null when the connection was lost first). */
    this.replies = new Map();
    /** correlationID → function(invokeaction notification, or null) → true once it is done. */
    this.followers = new Map();
    /** thingID → `messageID` of the last notification of its properties and events. */
    this.lastSeen = new Map();
    this.onOpen = () => {};
    this.onNotification = () => {};
  }

  connect() {
    this.started = true;
    clearTimeout(this.timer);
    this.timer = 0;
    const url = new URL('ws', ROOT);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    // A browser cannot set headers on a WebSocket: the server takes the token of an upgrade
    // from the query instead.
    if (token.get()) url.search = `access_token=${encodeURIComponent(token.get())}`;
    const ws = new WebSocket(url, 'webthingprotocol');
    this.ws = ws;
    ws.addEventListener('open', () => {
      this.delay = BACKOFF_MS[0];
      showConnection(true);
      this.onOpen();
    });
    ws.addEventListener('message', (event) => this.receive(event.data));
    ws.addEventListener('close', () => this.dropped(ws));
  }

  /** The socket closed: say so, give up what it was doing, and try again after a delay. */
  dropped(ws) {
    if (this.ws !== ws) return; // already replaced by restart()
    this.ws = null;
    showConnection(false);
    this.abandon();
    this.timer = setTimeout(() => this.connect(), this.delay);
    this.delay = Math.min(this.delay * 2, BACKOFF_MS[1]);
  }

  /** Reconnect at once (with a new token), if connecting at all. */
  restart() {
    if (!this.started) return;
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.close();
      showConnection(false);
      this.abandon();
    }
    this.connect();
  }

  /** Tell whoever waits for an answer or follows an invocation that none will come here. */
  abandon() {
    for (const reply of this.replies.values()) reply(null);
    this.replies.clear();
    for (const follow of this.followers.values()) follow(null);
    this.followers.clear();
  }

  get connected() {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  /**
   * Send a request about Thing `thingID`; `onReply` gets its response. Returns the request's
   * correlationID, or false when not connected.
   */
  request(thingID, operation, members, onReply) {
    if (!this.connected) return false;
    const correlationID = uuid();
    this.ws.send(JSON.stringify({ thingID, messageType: 'request', operation, ...members, correlationID }));
    this.replies.set(correlationID, onReply);
    return correlationID;
  }

  /** Observe a property or subscribe to an event, resuming after the last notification seen. */
  subscribe(thingID, operation, name, onReply) {
    const lastNotificationID = this.lastSeen.get(thingID); // left out when undefined
    return this.request(thingID, operation, { name, lastNotificationID }, onReply);
  }

  /** Pass the status notifications of the invocation a request started to `follow`. */
  follow(correlationID, follow) {
    this.followers.set(correlationID, follow);
  }

  receive(text) {
    const message = parseJson(text);
    if (!message || typeof message !== 'object') return;
    const id = message.correlationID;
    if (message.messageType === 'response') {
      const reply = this.replies.get(id);
      this.replies.delete(id);
      if (message.error) this.followers.delete(id); // a refused request starts nothing
      if (reply) reply(message);
      else if (message.error) console.warn('labthings:', problemText(message.error));
    } else if (message.messageType === 'notification' && message.operation === 'invokeaction') {
      if (this.followers.get(id)?.(message)) this.followers.delete(id);
    } else if (message.messageType === 'notification') {
      this.lastSeen.set(message.thingID, message.messageID);
      this.onNotification(message);
    }
  }
}

// ---- Properties ---------------------------------------------------------------------------

/** A property: its live value, and an editor when it is writable. */
class PropertyRow {
  constructor(card, name, property) {
    this.card = card;
    this.name = name;
    this.readable = !property.writeOnly;
    this.observable = property.observable === true;
    this.readUrl = card.formUrl(name, property, 'readproperty');
    this.writeUrl = card.formUrl(name, property, 'writeproperty');
    /** Notifications received: a read they overtook holds an older value. */
    this.notified = 0;
    // A numeric property's warning and alarm ranges (TD `lt:warning`, `lt:alarm`).
    this.ranges = { warning: property['lt:warning'], alarm: property['lt:alarm'] };
    this.value = el('output', { class: 'value' });
    this.problem = new ProblemLine();
    this.editor = property.readOnly ? null : makeEditor(property);
    // Numbers and booleans that change are plotted, from their value history on.
    this.plot = this.observable && this.readable && plots(property)
      ? new PropertyPlot(name, property, `${this.readUrl}/history`, api) : null;
    this.element = el('div', { class: 'property', 'data-thing': card.name, 'data-property': name },
      label(name, property),
      this.reading(property),
      this.plot?.element,
      this.editor ? this.editorForm() : null,
      this.problem.element);
  }

  reading(property) {
    return el('div', { class: 'reading' },
      this.value,
      property.unit ? el('span', { class: 'unit', text: property.unit }) : null,
      this.readable ? null : el('span', { class: 'unit', text: 'write-only' }),
      this.readable && !this.observable ? this.refreshButton() : null);
  }

  /** Non-observable properties are read once, and again on request. */
  refreshButton() {
    const refresh = el('button', { type: 'button', class: 'refresh', text: 'refresh' });
    refresh.addEventListener('click', () => this.read());
    return refresh;
  }

  editorForm() {
    this.writeButton = el('button', { type: 'submit', class: 'write', text: 'Set' });
    // The server validates: its problem says precisely what is wrong with a value.
    const form = el('form', { class: 'editor', noValidate: true }, this.editor.input, this.writeButton);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.write();
    });
    return form;
  }

  show(value) {
    this.value.replaceChildren(valueView(value));
    const judged = quality(value, this.ranges);
    if (judged) this.element.dataset.quality = judged;
    if (this.editor && !this.editor.dirty) this.editor.show(value);
  }

  /** A value from the WebSocket, published at `timestamp`. */
  notify(value, timestamp) {
    this.notified += 1;
    this.show(value);
    this.plot?.add(value, timestamp);
  }

  async read() {
    const notified = this.notified;
    try {
      const value = await api(this.readUrl);
      if (this.notified === notified) this.show(value);
      this.problem.clear('read');
    } catch (error) {
      this.problem.set(error.message, 'read');
    }
  }

  async write() {
    let value;
    try {
      value = this.editor.read();
      if (value === undefined) throw new Error('enter a value first');
    } catch (error) {
      this.problem.set(error.message, 'write');
      return;
    }
    this.writeButton.disabled = true;
    try {
      await api(this.writeUrl, 'PUT', value);
      this.editor.dirty = false;
      this.problem.clear('write');
      // An observable property's new value arrives over the WebSocket, when it is connected.
      if (this.readable && !(this.observable && this.card.socket.connected)) await this.read();
    } catch (error) {
      this.problem.set(error.message, 'write');
    } finally {
      this.writeButton.disabled = false;
    }
  }

  observe(socket) {
    socket.subscribe(this.card.id, 'observeproperty', this.name, (reply) => {
      if (reply?.error) this.problem.set(problemText(reply.error), 'observe');
      else if (reply) this.problem.clear('observe');
    });
  }
}

/**
 * The quality of `value` against `ranges` (`valid`, `warning`, `alarm`), as the server judges
 * it; `null` for a property without ranges.
 */
function quality(value, { warning, alarm }) {
  if (!warning && !alarm) return null;
  const within = (range) => !range || (value >= range.minimum && value <= range.maximum);
  if (typeof value !== 'number' || !within(alarm)) return 'alarm';
  return within(warning) ? 'valid' : 'warning';
}

// ---- Streams ------------------------------------------------------------------------------

/** An MJPEG stream (a property whose form is `multipart/x-mixed-replace`). */
class StreamView {
  constructor(card, name, property, url) {
    this.url = url;
    this.bearer = card.bearer;
    this.image = el('img', { alt: property.title ?? name });
    this.problem = new ProblemLine();
    this.element = el('figure',
      { class: 'stream', 'data-thing': card.name, 'data-property': name, 'data-stream': '' },
      label(name, property),
      el('div', { class: 'value' }, this.image),
      this.problem.element);
  }

  start() {
    if (this.bearer) this.pollFrames(`${this.url}/frame`);
    else this.watch();
  }

  /** Without tokens the browser shows the stream itself; it is reopened when it breaks. */
  watch() {
    this.image.addEventListener('load', () => this.problem.clear('stream'));
    this.image.addEventListener('error', () => {
      this.problem.set('the stream is not available; retrying…', 'stream');
      setTimeout(() => { this.image.src = this.url; }, 2000);
    });
    this.image.src = this.url;
  }

  /**
   * With tokens, an <img> cannot send the Authorization header: fetch the latest frame with
   * it every FRAME_MS (while the page is visible) and show it through an object URL.
   */
  async pollFrames(frameUrl) {
    let shown = null;
    for (;;) {
      if (!document.hidden) {
        try {
          const response = await request(frameUrl, { headers: { Accept: 'image/jpeg' } });
          const next = URL.createObjectURL(await response.blob());
          this.image.src = next;
          if (shown) URL.revokeObjectURL(shown);
          shown = next;
          this.problem.clear('stream');
        } catch (error) {
          this.problem.set(error.message, 'stream');
        }
      }
      await sleep(FRAME_MS);
    }
  }
}

// ---- Actions ------------------------------------------------------------------------------

/** Whether an output is a link to a blob, as the server sends binary outputs. */
function isBlobLink(value) {
  return Boolean(value) && typeof value === 'object' && typeof value.href === 'string'
    && typeof (value.media_type ?? value.mediaType) === 'string';
}

function logLine(record) {
  const level = String(record.levelname ?? '');
  return el('li', { class: `level-${level.toLowerCase()}` },
    el('time', { text: showTime(record.created) }), ' ',
    el('span', { class: 'level', text: level }), ' ',
    record.message ?? showValue(record));
}

/** One invocation of an action: its status, progress, log and output, kept up to date. */
class Invocation {
  /** `problem`: the action's problem line, for a refused cancellation. */
  constructor(id, bearer, problem) {
    this.id = id;
    this.bearer = bearer;
    // The `href` the server gives, built on the page's own origin and prefix.
    this.url = new URL(`action_invocations/${encodeURIComponent(id)}`, ROOT).href;
    this.status = 'pending';
    this.log = [];
    this.timer = 0;
    this.disposed = false;
    /** The user asked to cancel (status messages do not all say so). */
    this.cancelling = false;
    this.objectUrls = [];
    this.statusText = el('span', { class: 'status', text: this.status });
    this.progress = el('progress', { max: 100, hidden: true });
    this.progressText = el('span', { class: 'progress-text' });
    this.cancelButton = el('button', { type: 'button', class: 'cancel', text: 'Cancel' });
    this.cancelButton.addEventListener('click', () => this.cancel(problem));
    this.error = el('p', { class: 'error' });
    this.output = el('div', { class: 'output' });
    this.logList = el('ol', { class: 'log' });
    this.element = el('li', { class: 'invocation', 'data-invocation-id': id, 'data-status': this.status },
      el('div', { class: 'invocation-head' }, this.statusText, this.progress, this.progressText, this.cancelButton),
      this.error, this.output, this.logList);
  }

  get finished() {
    return FINISHED.has(this.status);
  }

  /** The invocation's JSON over HTTP: its whole (retained) log. */
  updateFromHttp(json) {
    this.update({ ...json, log: json.log ?? [] });
  }

  /**
   * A Web Thing Protocol action status: its `state` says `failed` for `error`, and its `log`
   * holds only the records since the previous status.
   */
  updateFromSocket(status) {
    this.update({
      ...status,
      status: status.state === 'failed' ? 'error' : status.state,
      log: [...this.log, ...(status.log ?? [])],
    });
  }

  update({ status, progress, log, output, error, cancelRequested }) {
    if (this.finished || this.disposed) return; // a final status is final
    this.status = status;
    this.statusText.textContent = status;
    this.element.dataset.status = status;
    this.showProgress(progress);
    this.showLog(log);
    this.cancelButton.hidden = this.finished;
    this.cancelButton.disabled = this.cancelling || cancelRequested === true;
    this.error.textContent = problemText(error);
    if (status === 'completed') this.showOutput(output);
  }

  showProgress(progress) {
    const numeric = typeof progress === 'number';
    this.progress.hidden = !numeric;
    if (numeric) this.progress.value = progress;
    this.progressText.textContent = numeric ? `${Math.round(progress)} %` : showValue(progress ?? undefined);
  }

  showLog(log) {
    const lines = log.slice(-MAX_LOG_LINES);
    const last = (records) => JSON.stringify(records[records.length - 1]);
    const unchanged = lines.length === this.log.length && last(lines) === last(this.log);
    this.log = lines;
    if (!unchanged) this.logList.replaceChildren(...lines.map(logLine));
  }

  showOutput(output) {
    if (isBlobLink(output)) {
      this.showBlob(output).catch((error) => { this.error.textContent = error.message; });
    } else {
      this.output.replaceChildren(el('pre', { text: JSON.stringify(output ?? null, null, 2) }));
    }
  }

  /** A download link, and the image itself for image/* blobs (fetched with the token if needed). */
  async showBlob(link) {
    const type = link.media_type ?? link.mediaType;
    let href = onPageOrigin(link.href);
    if (this.bearer) {
      const response = await request(href);
      href = URL.createObjectURL(await response.blob());
      this.objectUrls.push(href);
    }
    this.output.replaceChildren(
      el('a', { href, download: '', text: `Download (${type})` }),
      type.startsWith('image/') ? el('img', { src: href, alt: 'output' }) : null);
  }

  async cancel(problem) {
    this.cancelling = true;
    this.cancelButton.disabled = true;
    try {
      await api(this.url, 'DELETE');
    } catch (error) {
      problem.set(error.message);
      this.cancelling = false;
      this.cancelButton.disabled = false;
    }
  }

  /** Follow the invocation by polling it, when no WebSocket follows it. */
  poll() {
    if (this.timer || this.finished || this.disposed) return;
    const tick = async () => {
      try {
        this.updateFromHttp(await api(this.url));
      } catch (error) {
        this.error.textContent = error.message;
        if (error.status === 404) return; // no longer kept by the server
      }
      if (!this.finished && !this.disposed) this.timer = setTimeout(tick, POLL_MS);
    };
    this.timer = setTimeout(tick, POLL_MS);
  }

  dispose() {
    this.disposed = true;
    clearTimeout(this.timer);
    this.objectUrls.forEach((url) => URL.revokeObjectURL(url));
    this.element.remove();
  }
}

/** An action: a form built from its `input` schema, and its latest invocations. */
class ActionPanel {
  constructor(card, name, action) {
    this.card = card;
    this.name = name;
    this.url = card.formUrl(name, action, 'invokeaction');
    this.fields = inputFields(action.input);
    this.problem = new ProblemLine();
    /** id → Invocation, oldest first. */
    this.invocations = new Map();
    this.list = el('ol', { class: 'invocations' });
    this.invokeButton = el('button', { type: 'submit', class: 'invoke', text: 'Invoke' });
    const form = el('form', { class: 'fields', noValidate: true },
      ...this.fields.map((field) => field.element), this.invokeButton);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.invoke();
    });
    this.element = el('div', { class: 'action', 'data-thing': card.name, 'data-action': name },
      label(name, action), form, this.problem.element, this.list);
  }

  /**
   * The input: an object of the fields' values, or the value of a whole-input field (files
   * are uploaded first).
   */
  async readInput() {
    if (this.fields.length === 1 && this.fields[0].field === null) {
      return (await this.fields[0].editor.read()) ?? null;
    }
    const input = {};
    // Files last: nothing is uploaded while another field is invalid.
    const files = this.fields.filter(({ editor }) => editor.uploads);
    const others = this.fields.filter(({ editor }) => !editor.uploads);
    for (const { field, editor } of [...others, ...files]) {
      try {
        const value = await editor.read();
        if (value !== undefined) input[field] = value;
      } catch (error) {
        throw new Error(`${field}: ${error.message}`);
      }
    }
    return input;
  }

  async invoke() {
    // One invocation per click, even while its files upload.
    if (this.invokeButton.disabled) return;
    this.invokeButton.disabled = true;
    try {
      let input;
      try {
        input = await this.readInput();
      } catch (error) {
        this.problem.set(error.message);
        return;
      }
      this.problem.clear();
      if (!this.invokeOverSocket(input)) await this.invokeOverHttp(input);
    } finally {
      this.invokeButton.disabled = false;
    }
  }

  /**
   * Invoke over the WebSocket with `observe: true` (an extension of this server): each status
   * change is notified, so nothing polls. Returns false when the socket is not connected.
   */
  invokeOverSocket(input) {
    const socket = this.card.socket;
    let invocation = null;
    const update = (status) => {
      invocation = this.track(status.actionID);
      invocation.updateFromSocket(status);
    };
    const correlationID = socket.request(this.card.id, 'invokeaction',
      { name: this.name, input, observe: true },
      (reply) => {
        if (reply === null) this.problem.set(CONNECTION_LOST);
        else if (reply.error) this.problem.set(problemText(reply.error));
        else update(reply.status);
      });
    if (!correlationID) return false;
    socket.follow(correlationID, (notification) => {
      if (notification === null) {
        invocation?.poll(); // the socket closed: follow it over HTTP
        return true;
      }
      update(notification.status);
      return invocation.finished;
    });
    return true;
  }

  /** Invoke with `POST {thing}/{action}`, then poll the invocation. */
  async invokeOverHttp(input) {
    try {
      const json = await api(this.url, 'POST', input);
      const invocation = this.track(json.id);
      invocation.updateFromHttp(json);
      invocation.poll();
    } catch (error) {
      this.problem.set(error.message);
    }
  }

  /** The invocation `id`, listed first when new; the oldest beyond MAX_INVOCATIONS go. */
  track(id) {
    let invocation = this.invocations.get(id);
    if (invocation) return invocation;
    invocation = new Invocation(id, this.card.bearer, this.problem);
    this.invocations.set(id, invocation);
    this.list.prepend(invocation.element);
    for (const [oldId, old] of this.invocations) {
      if (this.invocations.size <= MAX_INVOCATIONS) break;
      old.dispose();
      this.invocations.delete(oldId);
    }
    return invocation;
  }
}

/**
 * The inputs of an action: one per property of an object `input` schema, or a single one
 * (`field` null) for any other input schema; none without input.
 */
function inputFields(schema) {
  if (!schema) return [];
  if (schemaType(schema) === 'object' && schema.properties && !isBlobSchema(schema)) {
    const required = new Set(schema.required ?? []);
    return Object.entries(schema.properties)
      .map(([field, fieldSchema]) => inputField(field, fieldSchema, !required.has(field)));
  }
  return [inputField(null, schema, false)];
}

function inputField(field, fieldSchema, optional) {
  // A sub-schema may be `true` (anything goes).
  const schema = fieldSchema && typeof fieldSchema === 'object' ? fieldSchema : {};
  const editor = makeEditor(schema, optional, uploadBlob);
  if (field !== null) editor.input.dataset.field = field;
  if ('default' in schema) editor.show(schema.default);
  return { field, editor, element: fieldRow(field ?? 'input', schema, editor, optional) };
}

/** Upload `file` as a blob of `mediaType` (`POST {prefix}/blob`): its link. */
async function uploadBlob(file, mediaType) {
  const response = await request(new URL('blob', ROOT),
    { method: 'POST', headers: { 'Content-Type': mediaType }, body: file });
  return parseJson(await response.text());
}

// ---- Events -------------------------------------------------------------------------------

/** The latest events of a Thing, newest first. */
class EventList {
  constructor(card, events) {
    this.card = card;
    this.names = Object.keys(events);
    this.problem = new ProblemLine();
    this.list = el('ol', { class: 'event-list', 'data-thing': card.name, 'data-events': '' });
    this.element = el('div', {},
      el('p', { class: 'event-names', text: this.names.join(', ') }),
      this.list,
      this.problem.element);
  }

  subscribe(socket) {
    for (const name of this.names) {
      socket.subscribe(this.card.id, 'subscribeevent', name, (reply) => {
        if (reply?.error) this.problem.set(`${name}: ${problemText(reply.error)}`, name);
        else if (reply) this.problem.clear(name);
      });
    }
  }

  add(name, data, timestamp) {
    this.list.prepend(el('li', { class: 'event' },
      el('time', { dateTime: timestamp, text: showTime(timestamp) }),
      el('span', { class: 'event-name', text: name }),
      el('code', { class: 'event-data', text: showValue(data) })));
    while (this.list.children.length > MAX_EVENTS) this.list.lastElementChild.remove();
  }
}

// ---- Things -------------------------------------------------------------------------------

/** A titled block of a card, or null when it would be empty. */
function block(title, className, children) {
  if (children.length === 0) return null;
  return el('div', { class: `block ${className}` }, el('h3', { text: title }), ...children);
}

/** One Thing: its properties, streams, actions and events, from its TD. */
class ThingCard {
  constructor(name, td, socket) {
    this.name = name;
    this.td = td;
    this.socket = socket;
    // What Web Thing Protocol requests name the Thing by: its TD's `id`, or its TD's URL.
    this.id = td.id ?? new URL(`${name}/`, ROOT).href;
    this.bearer = usesBearer(td);
    this.properties = new Map();
    this.streams = [];
    for (const [property, affordance] of Object.entries(td.properties ?? {})) {
      const stream = streamForm(affordance);
      if (stream) this.streams.push(new StreamView(this, property, affordance, resolveHref(td, stream.href)));
      else this.properties.set(property, new PropertyRow(this, property, affordance));
    }
    this.actions = Object.entries(td.actions ?? {}).map(([action, a]) => new ActionPanel(this, action, a));
    const events = td.events ?? {};
    this.events = Object.keys(events).length > 0 ? new EventList(this, events) : null;
    this.element = this.render();
  }

  render() {
    const parts = (items) => items.map((item) => item.element);
    return el('section', { class: 'thing', 'data-thing': this.name },
      el('header', {},
        el('h2', {}, this.td.title ?? this.name, ' ', el('span', { class: 'thing-name', text: this.name })),
        this.td.description ? el('p', { class: 'description', text: this.td.description }) : null),
      el('div', { class: 'blocks' },
        block('Streams', 'streams', parts(this.streams)),
        block('Properties', 'properties', parts([...this.properties.values()])),
        block('Actions', 'actions', parts(this.actions)),
        block('Events', 'events', this.events ? [this.events.element] : [])));
  }

  /** The URL of the HTTP form of an affordance that does `op`, or `{thing}/{name}` under the page. */
  formUrl(name, affordance, op) {
    const form = (affordance.forms ?? []).find((f) => httpFormDoes(f, op));
    return form ? resolveHref(this.td, form.href) : new URL(`${this.name}/${name}`, ROOT).href;
  }

  /** Read every readable property once, start the plots and the streams. */
  start() {
    for (const row of this.properties.values()) if (row.readable) row.read();
    for (const row of this.properties.values()) row.plot?.start();
    this.streams.forEach((stream) => stream.start());
  }

  /** Observe the observable properties and subscribe to every event (on each connection). */
  subscribe() {
    for (const row of this.properties.values()) if (row.observable) row.observe(this.socket);
    this.events?.subscribe(this.socket);
  }

  notify(message) {
    if (message.operation === 'observeproperty') {
      this.properties.get(message.name)?.notify(message.value, message.timestamp);
    } else if (message.operation === 'subscribeevent') {
      this.events?.add(message.name, message.data, message.timestamp);
    }
  }
}

// ---- Start --------------------------------------------------------------------------------

const socket = new Socket();
/** thingID → ThingCard */
const cards = new Map();
socket.onOpen = () => cards.forEach((card) => card.subscribe());
socket.onNotification = (message) => cards.get(message.thingID)?.notify(message);

/** The TDs, `{name: TD}`, retried until they load (after a token, when one is needed). */
async function loadDescriptions() {
  const problem = document.getElementById('load-problem');
  for (let delay = BACKOFF_MS[0]; ; delay = Math.min(delay * 2, BACKOFF_MS[1])) {
    try {
      const descriptions = await api(new URL('thing_descriptions/', ROOT));
      problem.textContent = '';
      return descriptions;
    } catch (error) {
      if (error.status === 401) {
        problem.textContent = '';
        await tokenPrompt.next();
      } else {
        problem.textContent = `The Things could not be loaded: ${error.message}`;
        await sleep(delay);
      }
    }
  }
}

async function main() {
  tokenPrompt.init(() => socket.restart());
  showConnection(false);
  const descriptions = await loadDescriptions();
  const container = document.getElementById('things');
  for (const [name, td] of Object.entries(descriptions ?? {})) {
    const card = new ThingCard(name, td, socket);
    cards.set(card.id, card);
    container.append(card.element);
    card.start();
  }
  if (cards.size === 0) container.append(el('p', { class: 'empty', text: 'This server publishes no Things.' }));
  socket.connect();
}

main();
