// minewatch web UI: every change a page makes goes through the REST API under /api/v1, with
// the session cookie and the session's CSRF secret (from <meta name="csrf">) in X-CSRF-Token.
// A form opts in with data-api="<endpoint>"; its named fields become the JSON body (typed by
// data-type: bool, int, number), or a file input becomes the raw body. data-then names the
// page to open after success (default: reload this one); data-then="report" shows the
// answer in place instead. data-e<status> holds the message for an error status in the
// page's language; otherwise the API's own error text is shown.
"use strict";
(() => {
  const csrf = document.querySelector('meta[name="csrf"]')?.content ?? "";

  const typed = (el) => {
    const v = el.value.trim();
    if (v === "") return undefined;
    switch (el.dataset.type) {
      case "bool": return v === "true";
      case "int": return /^-?\d+$/.test(v) ? Number(v) : v;
      case "number": return Number.isFinite(Number(v)) ? Number(v) : v;
      default: return el.value;
    }
  };

  const say = (form, text, isError) => {
    let out = form.querySelector(".out");
    if (!out) {
      out = document.createElement("p");
      out.className = "out";
      out.id = `${form.id}-msg`;
      out.setAttribute("role", "alert");
      form.append(out);
    }
    out.classList.toggle("err", isError);
    out.textContent = text;
  };

  const summary = (form, j) => {
    const parts = [`${form.dataset.label ?? ""}: ${j.new ?? 0} new, ${j.known ?? 0} known, ${j.bad_count ?? 0} refused`];
    if (j.power) parts.push(`${j.power.meters} meters read, ${j.power.suspected} suspected, ${j.power.skipped_rows} rows skipped`);
    const bad = (j.bad ?? [])[0] ?? (j.power?.examples ?? [])[0];
    if (bad) parts.push(typeof bad === "string" ? bad : `line ${bad.line}: ${bad.message}`);
    return parts.join("; ");
  };

  for (const form of document.querySelectorAll("form[data-api]")) {
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const button = form.querySelector("button");
      if (button) button.disabled = true;
      let url = form.dataset.api;
      const init = { method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": csrf } };
      const file = form.querySelector('input[type="file"]');
      if (file) {
        const f = file.files[0];
        url += `?name=${encodeURIComponent(f?.name ?? "upload")}`;
        init.headers["Content-Type"] = /\.csv$/i.test(f?.name ?? "") ? "text/csv" : "application/x-ndjson";
        init.body = f;
      } else {
        const body = {};
        for (const el of form.elements) {
          if (!el.name) continue;
          const v = typed(el);
          if (v !== undefined) body[el.name] = v;
        }
        init.headers["Content-Type"] = "application/json";
        init.body = JSON.stringify(body);
      }
      try {
        const r = await fetch(url, init);
        const j = await r.json().catch(() => ({}));
        if (!r.ok) {
          say(form, form.dataset[`e${r.status}`] ?? j.error ?? `${r.status} ${r.statusText}`, true);
        } else if (form.dataset.then === "report") {
          say(form, summary(form, j), false);
        } else if (form.dataset.then) {
          location.assign(form.dataset.then);
        } else {
          location.reload();
        }
      } catch (e) {
        say(form, String(e), true);
      } finally {
        if (button) button.disabled = false;
      }
    });
  }
})();
