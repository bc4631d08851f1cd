// Progress view of a lasso_notebook table job (anywidget front-end module, no bundler).
// It only draws the model's traits; every server-provided string is set with textContent.

const TICK_MS = 1000;

function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || !isFinite(seconds) || seconds < 0) return "";
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

function h(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function render({ model, el }) {
  const root = h("div", "lasso-progress lasso-root");
  root.setAttribute("role", "group");

  const header = h("div", "lasso-progress__header");
  const name = h("span", "lasso-progress__name");
  const tableId = h("code", "lasso-progress__id");
  const status = h("span", "lasso-progress__status");
  header.append(name, tableId, status);

  const track = h("div", "lasso-progress__track");
  track.setAttribute("role", "progressbar");
  track.setAttribute("aria-valuemin", "0");
  track.setAttribute("aria-valuemax", "100");
  const bar = h("div", "lasso-progress__bar");
  track.append(bar);

  const footer = h("div", "lasso-progress__footer");
  const rows = h("span", "lasso-progress__rows");
  const time = h("span", "lasso-progress__time");
  const stop = h("button", "lasso-button lasso-progress__stop", "Stop watching");
  stop.type = "button";
  stop.title = "Stop following this table here; it keeps running on the server";
  footer.append(rows, time, stop);

  const error = h("div", "lasso-progress__error");
  error.setAttribute("role", "alert");
  // The server's word on an interrupted run that restarted rows (its status_note).
  const statusNote = h("div", "lasso-progress__status-note");
  const note = h("div", "lasso-progress__note");
  // Once finished: the validation summary and the extraction report, a line each.
  const validation = h("div", "lasso-progress__validation");
  const report = h("div", "lasso-progress__report");

  root.append(header, track, footer, error, statusNote, note, validation, report);
  el.append(root);

  // Elapsed time and the estimate tick locally between kernel updates; measured from when
  // the value arrived here, so the kernel's and browser's clocks never need to agree.
  let receivedAt = performance.now();

  function active() {
    const phase = model.get("phase");
    return (phase === "pending" || phase === "running") && !model.get("detached");
  }

  // "rate limited, retrying in N s" while polls are refused, counted down here.
  function rateLimited(since) {
    const retryIn = model.get("retry_in");
    if (!active() || retryIn === null || retryIn === undefined) return "";
    return `rate limited, retrying in ${formatDuration(Math.max(1, Math.ceil(retryIn - since)))}`;
  }

  function drawStatus(since) {
    const phase = model.get("phase");
    const progress = Math.max(0, Math.min(100, model.get("progress") || 0));
    let label = model.get("status") || phase;
    if (phase === "running" && label !== "uploading" && label !== "fetching rows") {
      label = `${label} ${progress}%`;
    }
    const download = model.get("download") || "";
    if (label === "fetching rows" && download) label = `${label} ${download}`;
    const limited = rateLimited(since);
    if (limited) label = `${label} · ${limited}`;
    if (model.get("detached")) label = `detached · ${label}`;
    status.textContent = label;
    status.dataset.limited = limited ? "true" : "false";
  }

  function drawTime() {
    const since = active() ? (performance.now() - receivedAt) / 1000 : 0;
    if (model.get("retry_in") !== null && model.get("retry_in") !== undefined) drawStatus(since);
    const parts = [formatDuration(model.get("elapsed") + since)];
    const eta = model.get("eta");
    if (active() && eta !== null && eta !== undefined) {
      const left = Math.max(0, eta - since);
      parts.push(left > 0.5 ? `~${formatDuration(left)} left` : "finishing…");
    }
    time.textContent = parts.filter(Boolean).join(" · ");
  }

  function draw() {
    const phase = model.get("phase");
    const detached = model.get("detached");
    const progress = Math.max(0, Math.min(100, model.get("progress") || 0));
    const state = detached ? "detached" : phase;
    root.dataset.state = state;

    name.textContent = model.get("name") || "Lasso table";
    const id = model.get("table_id");
    tableId.textContent = id || "";
    tableId.hidden = !id;
    tableId.title = id ? "table id (lasso_notebook.attach(id) follows it again)" : "";

    drawStatus(0);

    const width = phase === "completed" ? 100 : progress;
    bar.style.width = `${width}%`;
    track.setAttribute("aria-valuenow", String(width));
    track.classList.toggle("lasso-progress__track--indeterminate", phase === "pending" && !detached);

    const n = model.get("total_rows") || 0;
    rows.textContent = `${n.toLocaleString()} row${n === 1 ? "" : "s"}`;

    const message = model.get("error_message") || "";
    error.textContent = message;
    error.hidden = !message;
    const statusNoteText = model.get("status_note") || "";
    statusNote.textContent = statusNoteText;
    statusNote.hidden = !statusNoteText;
    const noteText = model.get("note") || "";
    note.textContent = noteText;
    note.hidden = !noteText;
    const validationText = model.get("validation") || "";
    validation.textContent = validationText;
    validation.hidden = !validationText;
    // "with errors" in the summary: some rows hold values the engine could not read.
    validation.dataset.level = /with errors/.test(validationText)
      ? "error"
      : /with warnings/.test(validationText)
        ? "warning"
        : "ok";
    const reportText = model.get("report") || "";
    report.textContent = reportText;
    report.hidden = !reportText;

    stop.hidden = !(model.get("can_stop") && active());
    drawTime();
  }

  function onChange() {
    receivedAt = performance.now();
    draw();
  }

  stop.addEventListener("click", () => {
    stop.disabled = true;
    stop.textContent = "Stopping…";
    model.send({ type: "stop" });
  });

  const traits = [
    "table_id", "name", "status", "phase", "progress", "total_rows", "elapsed", "eta",
    "error_message", "note", "detached", "can_stop", "validation", "report", "download",
    "retry_in", "status_note",
  ];
  for (const trait of traits) model.on(`change:${trait}`, onChange);
  const timer = setInterval(() => { if (active()) drawTime(); }, TICK_MS);
  draw();

  return () => {
    clearInterval(timer);
    for (const trait of traits) model.off(`change:${trait}`, onChange);
  };
}

export default { render };
