// lasso_notebook submit form: draws the SubmitForm widget's traits and sends its commands.
// Plain ES module, no imports (DESIGN.md §2.7). Every server or user string goes through
// textContent / value, never innerHTML. State lives in the model; commands are custom messages:
//   {type: "refresh"} · {type: "select_schema", schema_id} · {type: "submit", values}
//   {type: "file_start", fid, name, size, mime} · {type: "file_chunk", fid, offset} + [bytes]
//   {type: "file_end", fid} · {type: "file_remove", fid} · {type: "reset"}
// The kernel answers chunks with {type: "file_ack", fid, received} (flow control).

const CHUNK = 1024 * 1024; // the protocol's ceiling: at most 1 MiB per message
const WINDOW = 4; // chunks in flight before waiting for an ack (bounded browser memory)
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

  // ---------- structure ----------
  const ids = {
    schema: uid("schema"),
    name: uid("name"),
    text: uid("text"),
    files: uid("files"),
    urls: uid("urls"),
    context: uid("context"),
    enhance: uid("enhance"),
    webhook: uid("webhook"),
  };
  const errorBox = (field) =>
    h("div", {
      class: "lasso-form__error",
      id: `${ids[field] || uid(field)}-error`,
      testid: `${field}-error`,
      role: "alert",
      hidden: true,
    });

  const formError = h("div", {
    class: "lasso-form__error lasso-form__error-top",
    testid: "form-error",
    role: "alert",
    hidden: true,
  });
  const title = h("div", { class: "lasso-form__title", text: "New Lasso extraction" });

  // Schema
  const schemaSelect = h("select", { id: ids.schema, testid: "schema-select" });
  const schemaRefresh = h("button", {
    type: "button",
    class: "lasso-button lasso-form__small",
    testid: "schema-refresh",
    title: "Reload the schema list",
    "aria-label": "Reload the schema list",
    text: "↻ Refresh",
  });
  const schemaStatus = h("span", { class: "lasso-form__hint", testid: "schema-status" });
  const schemaColumns = h("div", {
    class: "lasso-form__columns",
    testid: "schema-columns",
    "aria-live": "polite",
  });
  const schemaError = errorBox("schema");
  const schemaField = h("div", { class: "lasso-form__field" }, [
    h("label", { for: ids.schema, text: "Schema" }),
    h("div", { class: "lasso-form__row" }, [schemaSelect, schemaRefresh, schemaStatus]),
    schemaColumns,
    schemaError,
  ]);

  // Name
  const nameInput = h("input", {
    id: ids.name,
    type: "text",
    testid: "name-input",
    autocomplete: "off",
    spellcheck: "false",
  });
  const nameError = errorBox("name");
  const nameField = h("div", { class: "lasso-form__field" }, [
    h("label", { for: ids.name, text: "Table name" }),
    nameInput,
    nameError,
  ]);

  // Source tabs
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
    id: ids.text,
    rows: 8,
    testid: "text-input",
    placeholder: "Paste a catalog, a CSV, a product listing…",
    spellcheck: "false",
  });
  const textError = errorBox("text");
  panels.text.append(
    h("label", { for: ids.text, class: "lasso-form__sr-only", text: "Source text" }),
    textArea,
    textError,
  );

  const fileInput = h("input", {
    id: ids.files,
    type: "file",
    multiple: true,
    class: "lasso-form__file-input",
    testid: "file-input",
  });
  const fileLimit = h("span", { class: "lasso-form__hint", testid: "file-limit" });
  const dropZone = h("div", { class: "lasso-form__drop", testid: "file-drop" }, [
    h("label", { for: ids.files, class: "lasso-button", text: "Choose files…" }),
    fileInput,
    h("span", { class: "lasso-form__hint", text: " or drop files here. " }),
    fileLimit,
  ]);
  const fileList = h("ul", { class: "lasso-form__files", testid: "file-list" });
  const filesError = errorBox("files");
  panels.files.append(dropZone, fileList, filesError);

  const urlsArea = h("textarea", {
    id: ids.urls,
    rows: 4,
    testid: "urls-input",
    placeholder: "https://example.com/catalog.pdf\nhttps://example.com/products.csv",
    spellcheck: "false",
  });
  const urlsError = errorBox("urls");
  panels.urls.append(
    h("label", { for: ids.urls, class: "lasso-form__hint", text: "URLs, one per line" }),
    urlsArea,
    urlsError,
  );
  const sourceField = h("div", { class: "lasso-form__field" }, [
    h("div", { class: "lasso-form__label", text: "Source" }),
    tablist,
    ...SOURCES.map(([key]) => panels[key]),
    sourceError,
  ]);

  // More options
  const contextArea = h("textarea", { id: ids.context, rows: 2, testid: "context-input" });
  const enhanceArea = h("textarea", { id: ids.enhance, rows: 2, testid: "enhance-input" });
  const webhookInput = h("input", {
    id: ids.webhook,
    type: "url",
    testid: "webhook-input",
    placeholder: "https://…",
    autocomplete: "off",
  });
  const contextError = errorBox("context");
  const enhanceError = errorBox("enhance");
  const webhookError = errorBox("webhook");
  const more = h("details", { class: "lasso-form__more", testid: "more-options" }, [
    h("summary", { text: "More options" }),
    h("div", { class: "lasso-form__field" }, [
      h("label", { for: ids.context, text: "Additional context" }),
      contextArea,
      contextError,
    ]),
    h("div", { class: "lasso-form__field" }, [
      h("label", { for: ids.enhance, text: "Enhancement context" }),
      enhanceArea,
      enhanceError,
    ]),
    h("div", { class: "lasso-form__field" }, [
      h("label", { for: ids.webhook, text: "Webhook URL" }),
      webhookInput,
      webhookError,
    ]),
  ]);

  // Actions
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
  const actions = h("div", { class: "lasso-form__actions" }, [submitButton, resetButton]);

  // Job progress and result
  const jobStatus = h("span", { class: "lasso-form__status", testid: "job-status" });
  const jobName = h("span", { class: "lasso-form__job-name", testid: "job-name" });
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
  const jobRows = h("span", { class: "lasso-form__hint", testid: "job-rows" });
  const jobElapsed = h("span", { class: "lasso-form__hint", testid: "job-elapsed" });
  const jobError = h("div", {
    class: "lasso-form__error lasso-form__job-error",
    testid: "job-error",
    role: "alert",
    hidden: true,
  });
  const previewCount = h("div", { class: "lasso-form__hint", testid: "preview-count" });
  const previewTable = h("table", { class: "lasso-form__preview", testid: "preview-table" });
  const previewWrap = h("div", { class: "lasso-form__preview-wrap", hidden: true }, [
    previewCount,
    h("div", { class: "lasso-form__preview-scroll" }, [previewTable]),
  ]);
  const jobBox = h(
    "div",
    { class: "lasso-form__job", testid: "job-progress", "aria-live": "polite", hidden: true },
    [
      h("div", { class: "lasso-form__row" }, [jobName, jobStatus]),
      bar,
      h("div", { class: "lasso-form__row" }, [jobRows, jobElapsed]),
      jobError,
      previewWrap,
    ],
  );

  const fieldset = h("fieldset", { class: "lasso-form__fieldset" }, [
    h("legend", { class: "lasso-form__sr-only", text: "Extraction request" }),
    schemaField,
    nameField,
    sourceField,
    more,
  ]);
  const form = h("form", { class: "lasso-form", testid: "lasso-form", novalidate: true }, [
    title,
    formError,
    fieldset,
    actions,
    jobBox,
  ]);
  el.classList.add("lasso-root");
  el.append(form);

  const errorBoxes = {
    form: formError,
    schema: schemaError,
    name: nameError,
    source: sourceError,
    text: textError,
    files: filesError,
    urls: urlsError,
    context: contextError,
    enhance: enhanceError,
    webhook: webhookError,
  };
  const fieldInputs = {
    schema: schemaSelect,
    name: nameInput,
    text: textArea,
    files: fileInput,
    urls: urlsArea,
    context: contextArea,
    enhance: enhanceArea,
    webhook: webhookInput,
  };

  // Browser-side errors are shown until the kernel's errors replace them.
  let localErrors = null;

  // ---------- drawing from the model ----------
  function drawErrors() {
    const errors = localErrors ?? model.get("errors") ?? {};
    for (const [field, box] of Object.entries(errorBoxes)) {
      const message = errors[field];
      box.textContent = message || "";
      box.hidden = !message;
      const input = fieldInputs[field];
      if (input) {
        input.toggleAttribute("aria-invalid", Boolean(message));
        if (message) input.setAttribute("aria-describedby", box.id);
        else input.removeAttribute("aria-describedby");
      }
    }
    if (errors.source) {
      for (const key of Object.keys(tabs)) tabs[key].toggleAttribute("aria-invalid", true);
    } else {
      for (const key of Object.keys(tabs)) tabs[key].removeAttribute("aria-invalid");
    }
  }

  function drawSchemas() {
    const schemas = model.get("schemas") || [];
    const status = model.get("schemas_status") || "idle";
    const selected = model.get("schema_id") || "";
    schemaSelect.replaceChildren();
    const placeholder = h("option", {
      value: "",
      text: status === "loading" ? "Loading schemas…" : "Choose a schema…",
    });
    schemaSelect.append(placeholder);
    let found = false;
    for (const schema of schemas) {
      const count = Number.isInteger(schema.columns_count) ? ` (${schema.columns_count} columns)` : "";
      const option = h("option", { value: schema.id, text: `${schema.name}${count}` });
      if (schema.id === selected) found = true;
      schemaSelect.append(option);
    }
    if (selected && !found) {
      // A schema given by id that the list does not (yet) show stays selectable.
      schemaSelect.append(h("option", { value: selected, text: selected }));
    }
    schemaSelect.value = selected;
    const messages = {
      idle: "",
      loading: "Loading…",
      ready: schemas.length ? "" : "No schemas yet: create one first.",
      error: "Could not load the schemas.",
    };
    schemaStatus.textContent = model.get("schemas_message") || messages[status] || "";
    schemaRefresh.disabled = status === "loading";
  }

  function drawColumns() {
    const preview = model.get("schema_preview") || {};
    schemaColumns.replaceChildren();
    if (!preview.schema_id || preview.schema_id !== model.get("schema_id")) return;
    if (preview.status === "loading") {
      schemaColumns.append(h("span", { class: "lasso-form__hint", text: "Loading columns…" }));
      return;
    }
    if (preview.status === "error") {
      schemaColumns.append(
        h("span", { class: "lasso-form__hint", text: preview.message || "No column list." }),
      );
      return;
    }
    if (preview.description) {
      schemaColumns.append(h("div", { class: "lasso-form__hint", text: preview.description }));
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
    schemaColumns.append(list);
  }

  function drawSource() {
    const source = model.get("source") || "text";
    for (const [key] of SOURCES) {
      const active = key === source;
      tabs[key].setAttribute("aria-selected", active ? "true" : "false");
      tabs[key].tabIndex = active ? 0 : -1;
      tabs[key].classList.toggle("lasso-form__tab-active", active);
      panels[key].hidden = !active;
    }
  }

  function drawFiles() {
    const files = model.get("files") || [];
    fileList.replaceChildren();
    for (const file of files) {
      const pct = file.size ? Math.floor((100 * file.received) / file.size) : 100;
      const label = {
        sending: `sending ${pct}%`,
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
      remove.disabled = locked();
      remove.addEventListener("click", () => removeFile(file.fid));
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
      fileList.append(item);
    }
    const limit = model.get("max_file_bytes");
    fileLimit.textContent = limit ? `Up to ${formatBytes(limit)} per file.` : "";
  }

  function busy() {
    const phase = model.get("phase");
    return phase === "submitting" || phase === "running";
  }

  // While a job runs, and after it completed (until "New extraction"), the inputs are locked:
  // what the form shows is what produced the result below it.
  function locked() {
    return busy() || model.get("phase") === "completed";
  }

  // The kernel sends state only when the job changes; the clock ticks here in between.
  let jobReceivedAt = performance.now();
  function drawElapsed() {
    const job = model.get("job_state") || {};
    const running = model.get("phase") === "running" && !TERMINAL.has(job.phase);
    const since = running && Number.isFinite(job.elapsed) ? (performance.now() - jobReceivedAt) / 1000 : 0;
    jobElapsed.textContent = formatElapsed(Number.isFinite(job.elapsed) ? job.elapsed + since : job.elapsed);
  }
  const elapsedTimer = setInterval(drawElapsed, 1000);
  cleanups.push(() => clearInterval(elapsedTimer));

  function drawJob() {
    const phase = model.get("phase") || "idle";
    const job = model.get("job_state") || {};
    const isBusy = busy();
    // After a success, "New extraction" starts over; after a failure the user may fix and retry.
    submitButton.disabled = isBusy || phase === "completed";
    submitButton.textContent = phase === "submitting" ? "Submitting…" : "Extract";
    submitButton.setAttribute("aria-busy", isBusy ? "true" : "false");
    fieldset.disabled = locked();
    resetButton.hidden = !(phase === "completed" || phase === "failed");
    form.dataset.phase = phase;

    jobBox.hidden = phase === "idle";
    if (jobBox.hidden) return;
    jobBox.dataset.state = phase === "completed" || phase === "failed" ? phase : "running";
    bar.classList.toggle("lasso-progress__track--indeterminate", phase === "submitting");
    const status = job.status || (phase === "submitting" ? "submitting" : phase);
    jobStatus.textContent = status;
    jobStatus.dataset.status = TERMINAL.has(job.phase) ? job.phase : phase;
    jobName.textContent = job.name ? `${job.name}${job.id ? ` · ${job.id}` : ""}` : "";
    const progress = Math.max(0, Math.min(100, Number(job.progress) || 0));
    barFill.style.width = `${phase === "completed" ? 100 : progress}%`;
    bar.setAttribute("aria-valuenow", String(phase === "completed" ? 100 : progress));
    const rows = Number(job.total_rows) || 0;
    // Once completed, the preview's count says it; while running, rows found so far.
    jobRows.textContent = job.id && phase !== "completed" ? `${rows} ${rows === 1 ? "row" : "rows"}` : "";
    jobReceivedAt = performance.now();
    drawElapsed();
    jobError.textContent = job.error_message || "";
    jobError.hidden = !job.error_message;
    drawPreview();
  }

  function drawPreview() {
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
      for (const cell of row.cells) tr.append(h("td", { text: cell }));
      body.append(tr);
    }
    previewTable.append(h("thead", {}, [head]), body);
  }

  function drawValue(input, key) {
    const value = model.get(key) ?? "";
    if (input.value !== value) input.value = value;
  }

  // ---------- user input → model ----------
  function values() {
    return {
      schema_id: schemaSelect.value,
      name: nameInput.value,
      source: model.get("source") || "text",
      text: textArea.value,
      urls: urlsArea.value,
      context: contextArea.value,
      enhance: enhanceArea.value,
      webhook: webhookInput.value,
    };
  }

  function clearLocalError(field) {
    if (!localErrors || !localErrors[field]) return;
    const next = { ...localErrors };
    delete next[field];
    if (field === "text" || field === "urls" || field === "files") delete next.source;
    localErrors = next;
    drawErrors();
  }

  listen(schemaSelect, "change", () => {
    save("schema_id", schemaSelect.value);
    send({ type: "select_schema", schema_id: schemaSelect.value });
    clearLocalError("schema");
  });
  listen(schemaRefresh, "click", () => send({ type: "refresh" }));
  // Short fields sync on every keystroke; long text on change so typing stays cheap.
  listen(nameInput, "input", () => {
    save("name", nameInput.value);
    clearLocalError("name");
  });
  listen(webhookInput, "input", () => {
    save("webhook", webhookInput.value);
    clearLocalError("webhook");
  });
  for (const [input, key] of [
    [textArea, "text"],
    [urlsArea, "urls"],
    [contextArea, "context"],
    [enhanceArea, "enhance"],
  ]) {
    listen(input, "change", () => save(key, input.value));
    listen(input, "input", () => clearLocalError(key));
  }

  function selectSource(key, focus) {
    submitWhenSent = false; // the user changed their mind about the source
    save("source", key);
    drawSource();
    if (focus) tabs[key].focus();
  }
  for (const [key] of SOURCES) listen(tabs[key], "click", () => selectSource(key, false));
  // WAI-ARIA tabs: arrows move between tabs, Home/End jump to the ends.
  listen(tablist, "keydown", (event) => {
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
  listen(form, "keydown", (event) => {
    const target = event.target;
    if (target.matches("input, textarea, select")) event.stopPropagation();
    const singleLine = target.matches("input[type=text], input[type=url]");
    const modEnter = target.matches("textarea") && (event.ctrlKey || event.metaKey);
    if (event.key === "Enter" && (singleLine || modEnter)) {
      event.preventDefault();
      submit();
    }
  });
  listen(form, "submit", (event) => {
    event.preventDefault();
    submit();
  });

  // A submit while files are still on their way waits for them, then goes by itself.
  let submitWhenSent = false;

  function submit() {
    submitWhenSent = false;
    if (busy() || submitButton.disabled) return;
    const current = values();
    const files = model.get("files") || [];
    const errors = validate(current, files);
    const onlyWaiting =
      Object.keys(errors).length === 1 &&
      current.source === "files" &&
      files.some((f) => f.status === "sending") &&
      !files.some((f) => f.status === "error");
    if (onlyWaiting) {
      submitWhenSent = true;
      localErrors = null;
      drawErrors();
      filesError.textContent = "Extraction starts as soon as every file has reached the kernel…";
      filesError.hidden = false;
      return;
    }
    if (Object.keys(errors).length) {
      localErrors = errors;
      drawErrors();
      const first = ["schema", "name", "text", "files", "urls", "webhook"].find((f) => errors[f]);
      if (first === "webhook") more.open = true;
      if (first) fieldInputs[first].focus();
      return;
    }
    localErrors = null;
    drawErrors();
    // The values travel with the command, so the kernel sees exactly what was validated here.
    send({ type: "submit", values: { ...current, files: files.map((f) => f.fid) } });
  }

  listen(resetButton, "click", () => {
    localErrors = null;
    send({ type: "reset" });
    nameInput.focus();
  });

  // ---------- files: browser → kernel in ≤ 1 MiB chunks ----------
  const transfers = new Map(); // fid → {file, sent, acked, waiters}

  function addFiles(list) {
    const limit = model.get("max_file_bytes") || 0;
    const existing = new Set((model.get("files") || []).map((f) => f.name));
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
      startTransfer(file);
    }
    localErrors = refused.length ? { ...(localErrors || {}), files: refused.join(" ") } : null;
    drawErrors();
  }

  function startTransfer(file) {
    const fid = newFid();
    const transfer = { file, fid, acked: 0, waiters: [], cancelled: false };
    transfers.set(fid, transfer);
    send({
      type: "file_start",
      fid,
      name: file.name,
      size: file.size,
      mime: file.type || "",
    });
    pump(transfer).catch((error) => {
      transfers.delete(fid);
      localErrors = { ...(localErrors || {}), files: `Could not read "${file.name}": ${error}` };
      send({ type: "file_remove", fid });
      drawErrors();
    });
  }

  function waitForAck(transfer, atLeast) {
    if (transfer.acked >= atLeast || transfer.cancelled) return Promise.resolve();
    return new Promise((resolve) => transfer.waiters.push({ atLeast, resolve }));
  }

  async function pump(transfer) {
    const { file, fid } = transfer;
    let offset = 0;
    while (offset < file.size && !transfer.cancelled) {
      // Keep at most WINDOW chunks between the browser and the kernel.
      await waitForAck(transfer, offset - (WINDOW - 1) * CHUNK);
      if (transfer.cancelled) return;
      const end = Math.min(file.size, offset + CHUNK);
      const bytes = await file.slice(offset, end).arrayBuffer();
      send({ type: "file_chunk", fid, offset }, [new DataView(bytes)]);
      offset = end;
    }
    if (transfer.cancelled) return;
    await waitForAck(transfer, file.size);
    if (!transfer.cancelled) send({ type: "file_end", fid });
    transfers.delete(fid);
  }

  function removeFile(fid) {
    const transfer = transfers.get(fid);
    if (transfer) {
      transfer.cancelled = true;
      for (const waiter of transfer.waiters) waiter.resolve();
      transfers.delete(fid);
    }
    send({ type: "file_remove", fid });
  }

  const onCustom = (msg) => {
    if (!msg || typeof msg !== "object") return;
    if (msg.type === "file_ack" || msg.type === "file_refused") {
      const transfer = transfers.get(msg.fid);
      if (!transfer) return; // another view's transfer, or already removed
      if (msg.type === "file_refused") transfer.cancelled = true;
      else transfer.acked = Math.max(transfer.acked, Number(msg.received) || 0);
      const still = [];
      for (const waiter of transfer.waiters) {
        if (transfer.cancelled || transfer.acked >= waiter.atLeast) waiter.resolve();
        else still.push(waiter);
      }
      transfer.waiters = still;
    }
  };
  onModel("msg:custom", onCustom);

  listen(fileInput, "change", () => {
    addFiles(Array.from(fileInput.files || []));
    fileInput.value = ""; // choosing the same file again must fire change again
  });
  listen(dropZone, "dragover", (event) => {
    event.preventDefault();
    if (event.dataTransfer) event.dataTransfer.dropEffect = "copy";
    dropZone.classList.add("lasso-form__drop-over");
  });
  listen(dropZone, "dragleave", () => dropZone.classList.remove("lasso-form__drop-over"));
  listen(dropZone, "drop", (event) => {
    event.preventDefault();
    dropZone.classList.remove("lasso-form__drop-over");
    if (locked()) return;
    addFiles(Array.from(event.dataTransfer?.files || []));
  });

  // ---------- model → DOM ----------
  onModel("change:schemas", drawSchemas);
  onModel("change:schemas_status", drawSchemas);
  onModel("change:schemas_message", drawSchemas);
  onModel("change:schema_id", () => {
    drawSchemas();
    drawColumns();
  });
  onModel("change:schema_preview", drawColumns);
  onModel("change:name", () => drawValue(nameInput, "name"));
  onModel("change:text", () => drawValue(textArea, "text"));
  onModel("change:urls", () => drawValue(urlsArea, "urls"));
  onModel("change:context", () => drawValue(contextArea, "context"));
  onModel("change:enhance", () => drawValue(enhanceArea, "enhance"));
  onModel("change:webhook", () => drawValue(webhookInput, "webhook"));
  onModel("change:source", drawSource);
  onModel("change:files", () => {
    drawFiles();
    const files = model.get("files") || [];
    if (submitWhenSent && !files.some((f) => f.status === "sending")) submit();
  });
  onModel("change:max_file_bytes", drawFiles);
  onModel("change:errors", () => {
    localErrors = null;
    drawErrors();
  });
  onModel("change:phase", () => {
    drawJob();
    drawFiles();
  });
  onModel("change:job_state", drawJob);
  onModel("change:preview", drawPreview);

  drawSchemas();
  drawColumns();
  for (const [input, key] of [
    [nameInput, "name"],
    [textArea, "text"],
    [urlsArea, "urls"],
    [contextArea, "context"],
    [enhanceArea, "enhance"],
    [webhookInput, "webhook"],
  ]) {
    drawValue(input, key);
  }
  if (model.get("context") || model.get("enhance") || model.get("webhook")) more.open = true;
  drawSource();
  drawFiles();
  drawErrors();
  drawJob();

  // The schema list is fetched when the form is first shown.
  if ((model.get("schemas_status") || "idle") === "idle") send({ type: "refresh" });

  return () => {
    for (const transfer of transfers.values()) transfer.cancelled = true;
    for (const cleanup of cleanups) cleanup();
  };
}

export default { render };
