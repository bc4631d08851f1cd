// lasso_notebook submit form: draws the SubmitForm widget's traits and sends its commands.
// Plain ES module, no imports (docs/architecture.md §7). Layout: helpers and `validate`;
// `buildDom` (the nodes, with `field` for each label/input/error); the draw functions (model → DOM);
// `createUploader` (chunked file transfer); `render`, which wires them together. Every server
// or user string goes through textContent / value, never innerHTML. State lives in the model;
// commands are custom messages:
//   {type: "refresh"} · {type: "select_schema", schema_id} · {type: "submit", values}
//   {type: "file_start", fid, name, size, mime} · {type: "file_chunk", fid, offset} + [bytes]
//   {type: "file_end", fid} · {type: "file_remove", fid} · {type: "reset"}
//   {type: "extract_again"} (after a reused result: the same request, extracted anew)
// The kernel answers every file_start and file_chunk, with {type: "file_ack", fid, received}
// (received 0 accepts a start: no chunk goes before it) or {type: "file_refused", fid, message}
// (that file's transfer ends, the message shows on it).

const CHUNK = 1024 * 1024; // the protocol's ceiling: at most 1 MiB per message
const WINDOW = 4; // chunks in flight before waiting for an ack (bounded browser memory)
// A transfer the kernel has not answered for this long ends with an error instead of waiting
// forever (a kernel busy with a long cell answers only after it; a dead one never does).
const STALL_MS = 120_000;
const SOURCES = [
  ["text", "Text"],
  ["files", "Files"],
  ["urls", "URLs"],
];
const TERMINAL = new Set(["completed", "failed", "cancelled"]);

let nextDomId = 0;

function h(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key === "testid") node.dataset.testid = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

function uid(prefix) {
  nextDomId += 1;
  return `lasso-form-id-${prefix}-${Date.now().toString(36)}-${nextDomId}`;
}

function newFid() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  return `f${Date.now().toString(36)}${Math.random().toString(36).slice(2)}`;
}

export function formatBytes(n) {
  if (!Number.isFinite(n)) return "?";
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  if (unit === 0) return `${n} ${n === 1 ? "byte" : "bytes"}`;
  return `${value >= 10 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

function formatElapsed(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

// Same rule as the kernel side: an absolute http(s) URL with a host.
export function isHttpUrl(text) {
  try {
    const url = new URL(text);
    return (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "";
  } catch {
    return false;
  }
}

export function urlLines(text) {
  return (text || "")
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "");
}

// The checks the kernel repeats (it never trusts these). Returns {field: message}.
export function validate(values, files) {
  const errors = {};
  if (!values.schema_id) errors.schema = "Choose a schema.";
  if (!(values.name || "").trim()) errors.name = "Give the table a name.";
  const filled = [];
  if ((values.text || "").trim()) filled.push("text");
  if (files.length) filled.push("files");
  if (urlLines(values.urls).length) filled.push("urls");
  const source = values.source;
  const others = filled.filter((s) => s !== source);
  if (source === "text" && !(values.text || "").trim()) {
    errors.text = "Paste the text to extract from.";
  } else if (source === "files") {
    if (!files.length) errors.files = "Add at least one file.";
    else if (files.some((f) => f.status === "error")) {
      errors.files = "Remove the files marked with an error first.";
    } else if (files.some((f) => f.status === "sending")) {
      const done = files.filter((f) => f.status !== "sending").length;
      errors.files = `Wait until every file has reached the kernel (${done} of ${files.length}).`;
    }
  } else if (source === "urls") {
    const lines = urlLines(values.urls);
    const bad = lines.filter((line) => !isHttpUrl(line));
    if (!lines.length) errors.urls = "Enter at least one URL, one per line.";
    else if (bad.length) {
      errors.urls = `Not an http(s) URL: ${bad.slice(0, 3).join(", ")}${bad.length > 3 ? ", …" : ""}`;
    }
  }
  if (others.length) {
    const names = others.map((s) => SOURCES.find(([key]) => key === s)[1]).join(" and ");
    errors.source =
      `Use exactly one source: the ${names} tab also has content. ` + "Clear it, or switch to it.";
  }
  if ((values.webhook || "").trim() && !isHttpUrl(values.webhook.trim())) {
    errors.webhook = "The webhook must be an http(s) URL.";
  }
  return errors;
}

// ---------- structure: built once per view, drawn into by the draw functions ----------

// A labelled form field: label, the control (the input, or a row holding it), extras, error.
function field(label, input, error, { control = input, extra = [] } = {}) {
  return h("div", { class: "lasso-form__field" }, [
    h("label", { for: input.id, text: label }),
    control,
    ...extra,
    error,
  ]);
}

// Where a field's message goes; the input points at it with aria-describedby when shown.
function errorBox(name, inputId = uid(name)) {
  return h("div", {
    class: "lasso-form__error",
    id: `${inputId}-error`,
    testid: `${name}-error`,
    role: "alert",
    hidden: true,
  });
}

function buildSchemaField() {
  const select = h("select", { id: uid("schema"), testid: "schema-select" });
  const refresh = h("button", {
    type: "button",
    class: "lasso-button lasso-form__small",
    testid: "schema-refresh",
    title: "Reload the schema list",
    "aria-label": "Reload the schema list",
    text: "↻ Refresh",
  });
  const status = h("span", { class: "lasso-form__hint", testid: "schema-status" });
  const columns = h("div", {
    class: "lasso-form__columns",
    testid: "schema-columns",
    "aria-live": "polite",
  });
  const error = errorBox("schema", select.id);
  const node = field("Schema", select, error, {
    control: h("div", { class: "lasso-form__row" }, [select, refresh, status]),
    extra: [columns],
  });
  return { node, select, refresh, status, columns, error };
}

function buildSourceField() {
  const tablist = h("div", {
    class: "lasso-form__tabs",
    role: "tablist",
    "aria-label": "Source",
    testid: "source-tabs",
  });
  const tabs = {};
  const panels = {};
  for (const [key, label] of SOURCES) {
    const tabId = uid(`tab-${key}`);
    const panelId = uid(`panel-${key}`);
    tabs[key] = h("button", {
      type: "button",
      role: "tab",
      id: tabId,
      class: "lasso-form__tab",
      "aria-controls": panelId,
      testid: `source-tab-${key}`,
      "data-source": key,
      text: label,
    });
    panels[key] = h("div", {
      role: "tabpanel",
      id: panelId,
      class: "lasso-form__panel",
      "aria-labelledby": tabId,
      testid: `source-panel-${key}`,
    });
    tablist.append(tabs[key]);
  }
  const sourceError = errorBox("source");

  const textArea = h("textarea", {
    id: uid("text"),
    rows: 8,
    testid: "text-input",
    placeholder: "Paste a catalog, a CSV, a product listing…",
    spellcheck: "false",
  });
  const textError = errorBox("text", textArea.id);
  panels.text.append(
    h("label", { for: textArea.id, class: "lasso-form__sr-only", text: "Source text" }),
    textArea,
    textError,
  );

  const fileInput = h("input", {
    id: uid("files"),
    type: "file",
    multiple: true,
    class: "lasso-form__file-input",
    testid: "file-input",
  });
  const fileLimit = h("span", { class: "lasso-form__hint", testid: "file-limit" });
  const dropZone = h("div", { class: "lasso-form__drop", testid: "file-drop" }, [
    h("label", { for: fileInput.id, class: "lasso-button", text: "Choose files…" }),
    fileInput,
    h("span", { class: "lasso-form__hint", text: " or drop files here. " }),
    fileLimit,
  ]);
  const fileList = h("ul", { class: "lasso-form__files", testid: "file-list" });
  const filesError = errorBox("files", fileInput.id);
  panels.files.append(dropZone, fileList, filesError);

  const urlsArea = h("textarea", {
    id: uid("urls"),
    rows: 4,
    testid: "urls-input",
    placeholder: "https://example.com/catalog.pdf\nhttps://example.com/products.csv",
    spellcheck: "false",
  });
  const urlsError = errorBox("urls", urlsArea.id);
  panels.urls.append(
    h("label", { for: urlsArea.id, class: "lasso-form__hint", text: "URLs, one per line" }),
    urlsArea,
    urlsError,
  );
  const node = h("div", { class: "lasso-form__field" }, [
    h("div", { class: "lasso-form__label", text: "Source" }),
    tablist,
    ...SOURCES.map(([key]) => panels[key]),
    sourceError,
  ]);
  return {
    node,
    tablist,
    tabs,
    panels,
    textArea,
    fileInput,
    fileLimit,
    dropZone,
    fileList,
    urlsArea,
    errors: { source: sourceError, text: textError, files: filesError, urls: urlsError },
  };
}

function buildJobBox() {
  const status = h("span", { class: "lasso-form__status", testid: "job-status" });
  const name = h("span", { class: "lasso-form__job-name", testid: "job-name" });
  // The progress widget's track and bar (shared lasso.css): same look, same colours.
  const barFill = h("div", { class: "lasso-progress__bar" });
  const bar = h(
    "div",
    {
      class: "lasso-progress__track",
      role: "progressbar",
      "aria-valuemin": 0,
      "aria-valuemax": 100,
      "aria-label": "Extraction progress",
      testid: "progress-bar",
    },
    [barFill],
  );
  const rows = h("span", { class: "lasso-form__hint", testid: "job-rows" });
  const elapsed = h("span", { class: "lasso-form__hint", testid: "job-elapsed" });
  // "reused tbl_… from …": an identical earlier extraction's table, no new extraction.
  const reuse = h("div", { class: "lasso-form__hint", testid: "reuse-note", hidden: true });
  const error = h("div", {
    class: "lasso-form__error lasso-form__job-error",
    testid: "job-error",
    role: "alert",
    hidden: true,
  });
  // Once finished: rows valid / with warnings / with errors, and the extraction report.
  const validation = h("div", {
    class: "lasso-form__hint lasso-form__validation",
    testid: "job-validation",
    hidden: true,
  });
  const report = h("div", { class: "lasso-form__hint", testid: "job-report", hidden: true });
  const previewCount = h("div", { class: "lasso-form__hint", testid: "preview-count" });
  const previewTable = h("table", { class: "lasso-form__preview", testid: "preview-table" });
  const previewWrap = h("div", { class: "lasso-form__preview-wrap", hidden: true }, [
    previewCount,
    h("div", { class: "lasso-form__preview-scroll" }, [previewTable]),
  ]);
  const node = h(
    "div",
    { class: "lasso-form__job", testid: "job-progress", "aria-live": "polite", hidden: true },
    [
      h("div", { class: "lasso-form__row" }, [name, status]),
      bar,
      h("div", { class: "lasso-form__row" }, [rows, elapsed]),
      reuse,
      error,
      validation,
      report,
      previewWrap,
    ],
  );
  return {
    node,
    status,
    name,
    bar,
    barFill,
    rows,
    elapsed,
    reuse,
    error,
    validation,
    report,
    previewWrap,
    previewCount,
    previewTable,
  };
}

// Every node the view draws into or listens on; nothing here reads the model.
function buildDom() {
  const formError = h("div", {
    class: "lasso-form__error lasso-form__error-top",
    testid: "form-error",
    role: "alert",
    hidden: true,
  });
  const schema = buildSchemaField();

  const nameInput = h("input", {
    id: uid("name"),
    type: "text",
    testid: "name-input",
    autocomplete: "off",
    spellcheck: "false",
  });
  const nameError = errorBox("name", nameInput.id);

  const source = buildSourceField();

  const contextArea = h("textarea", { id: uid("context"), rows: 2, testid: "context-input" });
  const enhanceArea = h("textarea", { id: uid("enhance"), rows: 2, testid: "enhance-input" });
  const webhookInput = h("input", {
    id: uid("webhook"),
    type: "url",
    testid: "webhook-input",
    placeholder: "https://…",
    autocomplete: "off",
  });
  const contextError = errorBox("context", contextArea.id);
  const enhanceError = errorBox("enhance", enhanceArea.id);
  const webhookError = errorBox("webhook", webhookInput.id);
  const more = h("details", { class: "lasso-form__more", testid: "more-options" }, [
    h("summary", { text: "More options" }),
    field("Additional context", contextArea, contextError),
    field("Enhancement context", enhanceArea, enhanceError),
    field("Webhook URL", webhookInput, webhookError),
  ]);

  const submitButton = h("button", {
    type: "submit",
    class: "lasso-button lasso-form__primary",
    testid: "submit-button",
    text: "Extract",
  });
  const resetButton = h("button", {
    type: "button",
    class: "lasso-button",
    testid: "new-extraction",
    text: "New extraction",
    hidden: true,
  });
  const againButton = h("button", {
    type: "button",
    class: "lasso-button",
    testid: "extract-again",
    text: "Extract again",
    title: "This result reused an identical earlier extraction; extract the same input anew",
    hidden: true,
  });

  const job = buildJobBox();

  const fieldset = h("fieldset", { class: "lasso-form__fieldset" }, [
    h("legend", { class: "lasso-form__sr-only", text: "Extraction request" }),
    schema.node,
    field("Table name", nameInput, nameError),
    source.node,
    more,
  ]);
  const form = h("form", { class: "lasso-form", testid: "lasso-form", novalidate: true }, [
    h("div", { class: "lasso-form__title", text: "New Lasso extraction" }),
    formError,
    fieldset,
    h("div", { class: "lasso-form__actions" }, [submitButton, resetButton, againButton]),
    job.node,
  ]);

  return {
    form,
    fieldset,
    more,
    schemaSelect: schema.select,
    schemaRefresh: schema.refresh,
    schemaStatus: schema.status,
    schemaColumns: schema.columns,
    nameInput,
    tablist: source.tablist,
    tabs: source.tabs,
    panels: source.panels,
    textArea: source.textArea,
    fileInput: source.fileInput,
    fileLimit: source.fileLimit,
    dropZone: source.dropZone,
    fileList: source.fileList,
    urlsArea: source.urlsArea,
    contextArea,
    enhanceArea,
    webhookInput,
    submitButton,
    resetButton,
    againButton,
    job,
    errorBoxes: {
      form: formError,
      schema: schema.error,
      name: nameError,
      ...source.errors,
      context: contextError,
      enhance: enhanceError,
      webhook: webhookError,
    },
    inputs: {
      schema: schema.select,
      name: nameInput,
      text: source.textArea,
      files: source.fileInput,
      urls: source.urlsArea,
      context: contextArea,
      enhance: enhanceArea,
      webhook: webhookInput,
    },
  };
}

// The text inputs and the trait each mirrors.
function valueInputs(dom) {
  return [
    [dom.nameInput, "name"],
    [dom.textArea, "text"],
    [dom.urlsArea, "urls"],
    [dom.contextArea, "context"],
    [dom.enhanceArea, "enhance"],
    [dom.webhookInput, "webhook"],
  ];
}

// ---------- drawing: model → DOM. `view` is {model, dom, uploader, localErrors, …} ----------

function busy(model) {
  const phase = model.get("phase");
  return phase === "submitting" || phase === "running";
}

// While a job runs, and after it completed (until "New extraction"), the inputs are locked:
// what the form shows is what produced the result below it.
function locked(model) {
  return busy(model) || model.get("phase") === "completed";
}

// Browser-side errors (view.localErrors) are shown until the kernel's errors replace them.
function drawErrors(view) {
  const { model, dom } = view;
  const errors = view.localErrors ?? model.get("errors") ?? {};
  for (const [name, box] of Object.entries(dom.errorBoxes)) {
    const message = errors[name];
    box.textContent = message || "";
    box.hidden = !message;
    const input = dom.inputs[name];
    if (input) {
      input.toggleAttribute("aria-invalid", Boolean(message));
      if (message) input.setAttribute("aria-describedby", box.id);
      else input.removeAttribute("aria-describedby");
    }
  }
  for (const tab of Object.values(dom.tabs)) {
    if (errors.source) tab.toggleAttribute("aria-invalid", true);
    else tab.removeAttribute("aria-invalid");
  }
}

function drawSchemas({ model, dom }) {
  const schemas = model.get("schemas") || [];
  const status = model.get("schemas_status") || "idle";
  const selected = model.get("schema_id") || "";
  const select = dom.schemaSelect;
  select.replaceChildren();
  const placeholder = h("option", {
    value: "",
    text: status === "loading" ? "Loading schemas…" : "Choose a schema…",
  });
  select.append(placeholder);
  let found = false;
  for (const schema of schemas) {
    const count = Number.isInteger(schema.columns_count) ? ` (${schema.columns_count} columns)` : "";
    const option = h("option", { value: schema.id, text: `${schema.name}${count}` });
    if (schema.id === selected) found = true;
    select.append(option);
  }
  if (selected && !found) {
    // A schema given by id that the list does not (yet) show stays selectable.
    select.append(h("option", { value: selected, text: selected }));
  }
  select.value = selected;
  const messages = {
    idle: "",
    loading: "Loading…",
    ready: schemas.length ? "" : "No schemas yet: create one first.",
    error: "Could not load the schemas.",
  };
  dom.schemaStatus.textContent = model.get("schemas_message") || messages[status] || "";
  dom.schemaRefresh.disabled = status === "loading";
}

function drawColumns({ model, dom }) {
  const preview = model.get("schema_preview") || {};
  const box = dom.schemaColumns;
  box.replaceChildren();
  if (!preview.schema_id || preview.schema_id !== model.get("schema_id")) return;
  if (preview.status === "loading") {
    box.append(h("span", { class: "lasso-form__hint", text: "Loading columns…" }));
    return;
  }
  if (preview.status === "error") {
    box.append(h("span", { class: "lasso-form__hint", text: preview.message || "No column list." }));
    return;
  }
  if (preview.description) {
    box.append(h("div", { class: "lasso-form__hint", text: preview.description }));
  }
  const list = h("ul", { class: "lasso-form__column-list", "aria-label": "Columns" });
  for (const column of preview.columns || []) {
    // The key is what the DataFrame's column will be called; the label goes in the tooltip.
    const label = column.label && column.label !== column.key ? column.label : "";
    const hint = [label, column.description].filter(Boolean).join(": ");
    const item = h("li", { class: "lasso-form__column", title: hint }, [
      h("span", { class: "lasso-form__column-key", text: column.key }),
      h("span", { class: "lasso-form__column-type", text: column.type }),
    ]);
    list.append(item);
  }
  box.append(list);
}

function drawSource({ model, dom }) {
  const source = model.get("source") || "text";
  for (const [key] of SOURCES) {
    const active = key === source;
    const tab = dom.tabs[key];
    tab.setAttribute("aria-selected", active ? "true" : "false");
    tab.tabIndex = active ? 0 : -1;
    tab.classList.toggle("lasso-form__tab-active", active);
    dom.panels[key].hidden = !active;
  }
}

// The kernel's records, then the browser's own entries for files it has none of: waiting for
// the kernel's answer to file_start, or ended before it kept a record (refused, unreadable).
function allFiles(view) {
  const files = view.model.get("files") || [];
  const known = new Set(files.map((f) => f.fid));
  return [...files, ...view.uploader.local().filter((f) => !known.has(f.fid))];
}

function drawFiles(view) {
  const { model, dom } = view;
  const files = allFiles(view);
  dom.fileList.replaceChildren();
  for (const file of files) {
    const pct = file.size ? Math.floor((100 * file.received) / file.size) : 100;
    const label = {
      sending: file.waiting ? "waiting for the kernel…" : `sending ${pct}%`,
      received: "ready",
      uploading: "uploading to Lasso…",
      uploaded: "uploaded",
      error: file.error || "failed",
    }[file.status];
    const progress = h("progress", {
      max: 100,
      value: file.status === "sending" ? pct : 100,
      testid: "file-progress",
      "aria-label": `${file.name} upload progress`,
    });
    const remove = h("button", {
      type: "button",
      class: "lasso-button lasso-form__small",
      testid: "file-remove",
      "aria-label": `Remove ${file.name}`,
      text: "✕",
    });
    remove.disabled = locked(model);
    remove.addEventListener("click", () => view.uploader.remove(file.fid));
    const item = h(
      "li",
      {
        class: `lasso-form__file lasso-form__file-${file.status}`,
        testid: "file-item",
        "data-status": file.status,
      },
      [
        h("span", { class: "lasso-form__file-name", text: file.name }),
        h("span", { class: "lasso-form__hint", text: formatBytes(file.size) }),
        progress,
        h("span", { class: "lasso-form__file-state", text: label || file.status }),
        remove,
      ],
    );
    dom.fileList.append(item);
  }
  const limit = model.get("max_file_bytes");
  dom.fileLimit.textContent = limit ? `Up to ${formatBytes(limit)} per file.` : "";
}

// The kernel sends state only when the job changes; the clock ticks here in between, from
// view.jobReceivedAt (when the last job_state was drawn).
function drawElapsed(view) {
  const { model, dom } = view;
  const job = model.get("job_state") || {};
  const running = model.get("phase") === "running" && !TERMINAL.has(job.phase);
  const since =
    running && Number.isFinite(job.elapsed) ? (performance.now() - view.jobReceivedAt) / 1000 : 0;
  dom.job.elapsed.textContent = formatElapsed(
    Number.isFinite(job.elapsed) ? job.elapsed + since : job.elapsed,
  );
}

function drawJob(view) {
  const { model, dom } = view;
  const box = dom.job;
  const phase = model.get("phase") || "idle";
  const job = model.get("job_state") || {};
  const isBusy = busy(model);
  // After a success, "New extraction" starts over; after a failure the user may fix and retry.
  dom.submitButton.disabled = isBusy || phase === "completed";
  dom.submitButton.textContent = phase === "submitting" ? "Submitting…" : "Extract";
  dom.submitButton.setAttribute("aria-busy", isBusy ? "true" : "false");
  dom.fieldset.disabled = locked(model);
  dom.fieldset.title =
    phase === "completed"
      ? "These values produced the result below; “New extraction” starts over."
      : "";
  dom.resetButton.hidden = !(phase === "completed" || phase === "failed");
  const reused = Boolean(job.reused) && phase === "completed";
  dom.againButton.hidden = !reused;
  dom.againButton.disabled = false;
  dom.form.dataset.phase = phase;

  box.node.hidden = phase === "idle";
  if (box.node.hidden) return;
  box.node.dataset.state = phase === "completed" || phase === "failed" ? phase : "running";
  box.bar.classList.toggle("lasso-progress__track--indeterminate", phase === "submitting");
  box.status.textContent = job.status || (phase === "submitting" ? "submitting" : phase);
  box.status.dataset.status = TERMINAL.has(job.phase) ? job.phase : phase;
  box.name.textContent = job.name ? `${job.name}${job.id ? ` · ${job.id}` : ""}` : "";
  const progress = Math.max(0, Math.min(100, Number(job.progress) || 0));
  box.barFill.style.width = `${phase === "completed" ? 100 : progress}%`;
  box.bar.setAttribute("aria-valuenow", String(phase === "completed" ? 100 : progress));
  const rows = Number(job.total_rows) || 0;
  // Once completed, the preview's count says it; while running, rows found so far.
  box.rows.textContent =
    job.id && phase !== "completed" ? `${rows} ${rows === 1 ? "row" : "rows"}` : "";
  view.jobReceivedAt = performance.now();
  drawElapsed(view);
  box.error.textContent = job.error_message || "";
  box.error.hidden = !job.error_message;
  box.validation.textContent = job.validation || "";
  box.validation.hidden = !job.validation;
  box.validation.dataset.level = /with errors/.test(job.validation || "") ? "error" : "ok";
  box.report.textContent = job.report || "";
  box.report.hidden = !job.report;
  box.reuse.textContent = job.reuse_message || "";
  box.reuse.hidden = !job.reuse_message;
  drawPreview(view);
}

function drawPreview({ model, dom }) {
  const { previewWrap, previewTable, previewCount } = dom.job;
  const preview = model.get("preview") || {};
  const columns = preview.columns || [];
  previewWrap.hidden = model.get("phase") !== "completed";
  previewTable.replaceChildren();
  if (previewWrap.hidden) return;
  const total = Number(preview.total_rows) || 0;
  const shown = (preview.rows || []).length;
  previewCount.textContent =
    total === 0
      ? "The table has no rows."
      : `${total} ${total === 1 ? "row" : "rows"}${shown < total ? ` (first ${shown} shown)` : ""}`;
  if (!columns.length) return;
  const head = h("tr", {}, [h("th", { scope: "col", text: "#" })]);
  for (const column of columns) {
    const hint = [column.label !== column.key ? column.label : "", column.type]
      .filter(Boolean)
      .join(" · ");
    head.append(h("th", { scope: "col", title: hint, text: column.key }));
  }
  const body = h("tbody");
  for (const row of preview.rows || []) {
    const tr = h("tr", {}, [h("th", { scope: "row", text: String(row.index) })]);
    row.cells.forEach((cell, i) => {
      // The type lets numbers line up on the right and yes/no marks sit centred.
      tr.append(h("td", { text: cell, "data-type": columns[i]?.type || null }));
    });
    body.append(tr);
  }
  previewTable.append(h("thead", {}, [head]), body);
}

function drawValue(model, input, key) {
  const value = model.get(key) ?? "";
  if (input.value !== value) input.value = value;
}

function drawAll(view) {
  drawSchemas(view);
  drawColumns(view);
  for (const [input, key] of valueInputs(view.dom)) drawValue(view.model, input, key);
  drawSource(view);
  drawFiles(view);
  drawErrors(view);
  drawJob(view);
}

// ---------- files: browser → kernel in ≤ 1 MiB chunks, at most WINDOW unacknowledged ----------

// `send(msg, buffers)` talks to the kernel; `onChange()` is called when what `local()` returns
// changed; `stallMs` is how long an unanswered transfer waits. Returns {start(file),
// remove(fid), onMessage(msg), local(), clearFailed(), cancelAll()}.
export function createUploader(send, onChange, { stallMs = STALL_MS } = {}) {
  // fid → {file, fid, acked, waiters, over}; acked is -1 until the kernel accepted the start.
  const transfers = new Map();
  // fid → a files-trait-shaped entry with status "error": transfers that ended badly, shown
  // on the file (when the kernel keeps no record of it) until the user removes it.
  const failed = new Map();

  // Resolves once the kernel acknowledged `atLeast` bytes (0: accepted the start) or the
  // transfer is over; rejects when the kernel has not answered for `stallMs`.
  function waitForAck(transfer, atLeast) {
    if (transfer.over || transfer.acked >= atLeast) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("stalled")), stallMs);
      transfer.waiters.push({
        atLeast,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  function wake(transfer) {
    const still = [];
    for (const waiter of transfer.waiters) {
      if (transfer.over || transfer.acked >= waiter.atLeast) waiter.resolve();
      else still.push(waiter);
    }
    transfer.waiters = still;
  }

  function finish(transfer) {
    transfer.over = true;
    wake(transfer);
    transfers.delete(transfer.fid);
  }

  function fail(transfer, message) {
    const { file, fid } = transfer;
    finish(transfer);
    failed.set(fid, {
      fid,
      name: file.name,
      size: file.size,
      received: Math.max(0, transfer.acked),
      status: "error",
      error: message,
    });
    onChange();
  }

  async function pump(transfer) {
    const { file, fid } = transfer;
    await waitForAck(transfer, 0); // no byte leaves before the kernel accepted the file
    let offset = 0;
    while (offset < file.size && !transfer.over) {
      // Keep at most WINDOW chunks between the browser and the kernel.
      await waitForAck(transfer, offset - (WINDOW - 1) * CHUNK);
      if (transfer.over) return;
      const end = Math.min(file.size, offset + CHUNK);
      const bytes = await file.slice(offset, end).arrayBuffer();
      if (transfer.over) return; // refused or removed while the slice was read
      send({ type: "file_chunk", fid, offset }, [new DataView(bytes)]);
      offset = end;
    }
    if (transfer.over) return;
    await waitForAck(transfer, file.size);
    if (transfer.over) return;
    send({ type: "file_end", fid });
    finish(transfer);
  }

  function start(file) {
    const fid = newFid();
    const transfer = { file, fid, acked: -1, waiters: [], over: false };
    transfers.set(fid, transfer);
    onChange();
    try {
      send({ type: "file_start", fid, name: file.name, size: file.size, mime: file.type || "" });
    } catch (error) {
      fail(transfer, `Could not reach the kernel: ${error}`);
      return;
    }
    pump(transfer).catch((error) => {
      if (transfer.over) return; // removed or refused meanwhile: nothing more to say
      const message =
        error?.message === "stalled"
          ? `The kernel has not answered for ${Math.ceil(stallMs / 1000)} s (busy with a ` +
            "long cell, or stopped?); remove the file and add it again."
          : `Could not read "${file.name}": ${error}`;
      // The kernel may hold a half file for it: it is not coming, so let it go.
      trySend({ type: "file_remove", fid });
      fail(transfer, message);
    });
  }

  function trySend(msg) {
    try {
      send(msg);
    } catch {
      // The comm is gone (the view or the kernel closed): nothing is left to tell.
    }
  }

  function remove(fid) {
    const transfer = transfers.get(fid);
    if (transfer) finish(transfer);
    failed.delete(fid);
    send({ type: "file_remove", fid });
    onChange();
  }

  function onMessage(msg) {
    if (!msg || typeof msg !== "object") return;
    if (msg.type !== "file_ack" && msg.type !== "file_refused") return;
    const transfer = transfers.get(msg.fid);
    if (!transfer) return; // another view's transfer, or already over
    if (msg.type === "file_refused") {
      fail(transfer, String(msg.message || "The kernel refused this file."));
      return;
    }
    const accepted = transfer.acked < 0;
    transfer.acked = Math.max(transfer.acked, Number(msg.received) || 0);
    wake(transfer);
    if (accepted) onChange(); // "waiting for the kernel…" becomes "sending"
  }

  function local() {
    const sending = [...transfers.values()].map((t) => ({
      fid: t.fid,
      name: t.file.name,
      size: t.file.size,
      received: Math.max(0, t.acked),
      status: "sending",
      waiting: t.acked < 0,
      error: "",
    }));
    return [...sending, ...failed.values()];
  }

  function clearFailed() {
    failed.clear();
    onChange();
  }

  // The view goes away: its transfers cannot finish, so the kernel need not keep them.
  function cancelAll() {
    for (const transfer of [...transfers.values()]) {
      finish(transfer);
      trySend({ type: "file_remove", fid: transfer.fid });
    }
  }

  return { start, remove, onMessage, local, clearFailed, cancelAll };
}

// Files changed (the kernel's records or the browser's own): redraw, and a submit that waits
// for the files goes once none is on its way any more.
function filesChanged(view) {
  drawFiles(view);
  if (view.submitWhenSent && !allFiles(view).some((f) => f.status === "sending")) view.submit();
}

// Picked or dropped files: refuse what the kernel would refuse, send the rest.
function addFiles(view, list) {
  const limit = view.model.get("max_file_bytes") || 0;
  const existing = new Set(allFiles(view).map((f) => f.name));
  const refused = [];
  for (const file of list) {
    if (limit && file.size > limit) {
      refused.push(
        `"${file.name}" is ${formatBytes(file.size)}; the limit is ${formatBytes(limit)} per file.`,
      );
      continue;
    }
    if (existing.has(file.name)) {
      refused.push(`"${file.name}" is already in the list.`);
      continue;
    }
    existing.add(file.name);
    view.uploader.start(file);
  }
  view.localErrors = refused.length
    ? { ...(view.localErrors || {}), files: refused.join(" ") }
    : null;
  drawErrors(view);
}

// ---------- user input → model and commands ----------

function formValues({ model, dom }) {
  return {
    schema_id: dom.schemaSelect.value,
    name: dom.nameInput.value,
    source: model.get("source") || "text",
    text: dom.textArea.value,
    urls: dom.urlsArea.value,
    context: dom.contextArea.value,
    enhance: dom.enhanceArea.value,
    webhook: dom.webhookInput.value,
  };
}

// Validate here first (the kernel repeats it), then send the values with the command, so the
// kernel sees exactly what was validated. A submit while files are still on their way waits
// for them (view.submitWhenSent), then goes by itself.
function submitForm(view, send) {
  const { model, dom } = view;
  view.submitWhenSent = false;
  if (busy(model) || dom.submitButton.disabled) return;
  const current = formValues(view);
  // The browser's own entries count too: one waiting for the kernel is still "sending", a
  // refused one an "error", so neither is silently left out of the request.
  const files = allFiles(view);
  const errors = validate(current, files);
  const onlyWaiting =
    Object.keys(errors).length === 1 &&
    current.source === "files" &&
    files.some((f) => f.status === "sending") &&
    !files.some((f) => f.status === "error");
  if (onlyWaiting) {
    view.submitWhenSent = true;
    view.localErrors = null;
    drawErrors(view);
    dom.errorBoxes.files.textContent =
      "Extraction starts as soon as every file has reached the kernel…";
    dom.errorBoxes.files.hidden = false;
    return;
  }
  if (Object.keys(errors).length) {
    view.localErrors = errors;
    drawErrors(view);
    const first = ["schema", "name", "text", "files", "urls", "webhook"].find((f) => errors[f]);
    if (first === "webhook") dom.more.open = true;
    if (first) dom.inputs[first].focus();
    return;
  }
  view.localErrors = null;
  drawErrors(view);
  send({ type: "submit", values: { ...current, files: files.map((f) => f.fid) } });
}

function render({ model, el }) {
  const cleanups = [];
  const listen = (target, event, fn) => {
    target.addEventListener(event, fn);
    cleanups.push(() => target.removeEventListener(event, fn));
  };
  const onModel = (event, fn) => {
    model.on(event, fn);
    cleanups.push(() => model.off(event, fn));
  };
  const send = (msg, buffers) => model.send(msg, undefined, buffers);
  const save = (key, value) => {
    if (model.get(key) === value) return;
    model.set(key, value);
    model.save_changes();
  };

  const dom = buildDom();
  el.classList.add("lasso-root");
  el.append(dom.form);

  const view = { model, dom, localErrors: null, submitWhenSent: false, jobReceivedAt: 0 };
  view.jobReceivedAt = performance.now();
  view.uploader = createUploader(send, () => filesChanged(view));
  const submit = () => submitForm(view, send);
  view.submit = submit;

  function clearLocalError(name) {
    if (!view.localErrors || !view.localErrors[name]) return;
    const next = { ...view.localErrors };
    delete next[name];
    if (name === "text" || name === "urls" || name === "files") delete next.source;
    view.localErrors = next;
    drawErrors(view);
  }

  // ---------- user input ----------
  listen(dom.schemaSelect, "change", () => {
    save("schema_id", dom.schemaSelect.value);
    send({ type: "select_schema", schema_id: dom.schemaSelect.value });
    clearLocalError("schema");
  });
  listen(dom.schemaRefresh, "click", () => send({ type: "refresh" }));
  // Short fields sync on every keystroke; long text on change so typing stays cheap.
  for (const [input, key] of [
    [dom.nameInput, "name"],
    [dom.webhookInput, "webhook"],
  ]) {
    listen(input, "input", () => {
      save(key, input.value);
      clearLocalError(key);
    });
  }
  for (const [input, key] of [
    [dom.textArea, "text"],
    [dom.urlsArea, "urls"],
    [dom.contextArea, "context"],
    [dom.enhanceArea, "enhance"],
  ]) {
    listen(input, "change", () => save(key, input.value));
    listen(input, "input", () => clearLocalError(key));
  }

  function selectSource(key, focus) {
    view.submitWhenSent = false; // the user changed their mind about the source
    save("source", key);
    drawSource(view);
    if (focus) dom.tabs[key].focus();
  }
  for (const [key] of SOURCES) listen(dom.tabs[key], "click", () => selectSource(key, false));
  // WAI-ARIA tabs: arrows move between tabs, Home/End jump to the ends.
  listen(dom.tablist, "keydown", (event) => {
    const order = SOURCES.map(([key]) => key);
    const current = order.indexOf(model.get("source") || "text");
    const moves = {
      ArrowRight: current + 1,
      ArrowLeft: current - 1,
      Home: 0,
      End: order.length - 1,
    };
    if (!(event.key in moves)) return;
    event.preventDefault();
    selectSource(order[(moves[event.key] + order.length) % order.length], true);
  });

  // Notebook shortcuts must not fire while the user types in the form.
  listen(dom.form, "keydown", (event) => {
    const target = event.target;
    if (target.matches("input, textarea, select")) event.stopPropagation();
    const singleLine = target.matches("input[type=text], input[type=url]");
    const modEnter = target.matches("textarea") && (event.ctrlKey || event.metaKey);
    if (event.key === "Enter" && (singleLine || modEnter)) {
      event.preventDefault();
      submit();
    }
  });
  listen(dom.form, "submit", (event) => {
    event.preventDefault();
    submit();
  });
  listen(dom.againButton, "click", () => {
    dom.againButton.disabled = true; // one click, one extraction
    send({ type: "extract_again" });
  });
  listen(dom.resetButton, "click", () => {
    view.localErrors = null;
    view.uploader.clearFailed();
    send({ type: "reset" });
    dom.nameInput.focus();
  });

  // Files: picked or dropped.
  listen(dom.fileInput, "change", () => {
    addFiles(view, Array.from(dom.fileInput.files || []));
    dom.fileInput.value = ""; // choosing the same file again must fire change again
  });
  listen(dom.dropZone, "dragover", (event) => {
    event.preventDefault();
    if (event.dataTransfer) event.dataTransfer.dropEffect = "copy";
    dom.dropZone.classList.add("lasso-form__drop-over");
  });
  listen(dom.dropZone, "dragleave", () => dom.dropZone.classList.remove("lasso-form__drop-over"));
  listen(dom.dropZone, "drop", (event) => {
    event.preventDefault();
    dom.dropZone.classList.remove("lasso-form__drop-over");
    if (locked(model)) return;
    addFiles(view, Array.from(event.dataTransfer?.files || []));
  });
  onModel("msg:custom", view.uploader.onMessage);

  // ---------- model → DOM ----------
  const draw = (fn) => () => fn(view);
  onModel("change:schemas", draw(drawSchemas));
  onModel("change:schemas_status", draw(drawSchemas));
  onModel("change:schemas_message", draw(drawSchemas));
  onModel("change:schema_id", () => {
    drawSchemas(view);
    drawColumns(view);
  });
  onModel("change:schema_preview", draw(drawColumns));
  for (const [input, key] of valueInputs(dom)) {
    onModel(`change:${key}`, () => drawValue(model, input, key));
  }
  onModel("change:source", draw(drawSource));
  onModel("change:files", () => filesChanged(view));
  onModel("change:max_file_bytes", draw(drawFiles));
  onModel("change:errors", () => {
    view.localErrors = null;
    drawErrors(view);
  });
  onModel("change:phase", () => {
    drawJob(view);
    drawFiles(view);
  });
  onModel("change:job_state", draw(drawJob));
  onModel("change:preview", draw(drawPreview));
  const elapsedTimer = setInterval(draw(drawElapsed), 1000);
  cleanups.push(() => clearInterval(elapsedTimer));

  drawAll(view);
  if (model.get("context") || model.get("enhance") || model.get("webhook")) dom.more.open = true;

  // The schema list is fetched when the form is first shown.
  if ((model.get("schemas_status") || "idle") === "idle") send({ type: "refresh" });

  return () => {
    view.uploader.cancelAll();
    for (const cleanup of cleanups) cleanup();
  };
}

export default { render };
