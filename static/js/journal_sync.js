// Sync to Qoyod on the Verified tab (accounting/sync_views.py): the selection goes a few rows
// per request, one request after another, so closing the page stops it between batches and
// the server records every row it started. A reload shows each row as the database has it.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("journal-sync");
  if (!form) return;
  const panel = document.querySelector("[data-sync-progress]");
  const bar = panel.querySelector("[data-sync-bar]");
  const counts = panel.querySelector("[data-sync-counts]");
  const failures = panel.querySelector("[data-sync-failures]");
  const batch = Number(form.dataset.batch) || 5;
  const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  const button = form.querySelector("button[type=submit]");

  function say(template, values) {
    return template.replace(/\{(\w+)\}/g, (_match, name) => String(values[name]));
  }

  function failure(text) {
    const item = document.createElement("li");
    item.textContent = text;
    failures.appendChild(item);
  }

  function showRow(result) {
    const row = document.querySelector(`tr[data-pk="${result.pk}"]`);
    if (!row) return;
    const cell = row.querySelector("[data-sync-cell]");
    const badge = cell.querySelector("[data-sync-state]");
    badge.textContent = result.state_label;
    badge.className = "badge " + ({
      synced: "text-bg-success", failed: "text-bg-danger", unknown: "text-bg-warning",
    }[result.state] || "text-bg-secondary");
    cell.querySelectorAll(
      "[data-sync-problems], [data-sync-reason], [data-sync-entry], [data-sync-document]",
    ).forEach((el) => el.remove());
    if (result.entry_id) {
      const entry = document.createElement("bdi");
      entry.dir = "ltr";
      entry.dataset.syncEntry = "";
      entry.textContent = ` #${result.entry_id}`;
      badge.after(entry);
      if (result.document_label) {
        const label = document.createElement("span");
        label.className = "small";
        label.dataset.syncDocument = "";
        label.textContent = ` ${result.document_label}`;
        badge.after(label);
      }
    } else {
      const reason = document.createElement("div");
      reason.className = "small text-danger";
      reason.dataset.syncReason = "";
      reason.textContent = result.message;
      cell.appendChild(reason);
    }
    const box = row.querySelector("input[type=checkbox][name=pk]");
    if (box) box.checked = false;
  }

  async function selection() {
    if (!form.querySelector("[data-sync-all]").checked) {
      return { pks: Array.from(document.querySelectorAll(
        "input[type=checkbox][name=pk][form=journal-sync]:checked")).map((el) => el.value),
      capped: false };
    }
    const answer = await fetch(form.dataset.idsUrl, {
      headers: { Accept: "application/json" }, credentials: "same-origin",
    });
    if (!answer.ok) throw new Error(String(answer.status));
    return answer.json();
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    panel.hidden = false;
    failures.replaceChildren();
    let chosen;
    try {
      chosen = await selection();
    } catch (_error) {
      counts.textContent = form.dataset.textStopped;
      return;
    }
    const pks = chosen.pks.map(String);
    if (!pks.length) {
      counts.textContent = form.dataset.textNone;
      return;
    }
    if (chosen.capped) failure(form.dataset.textCapped);
    const tally = { done: 0, failed: 0, remaining: pks.length };
    const show = () => {
      bar.max = pks.length;
      bar.value = tally.done + tally.failed;
      counts.textContent = say(form.dataset.textCounts, tally);
    };
    show();
    button.disabled = true;
    try {
      for (let start = 0; start < pks.length; start += batch) {
        const body = new URLSearchParams();
        pks.slice(start, start + batch).forEach((pk) => body.append("pk", pk));
        const answer = await fetch(form.action, {
          method: "POST", body, credentials: "same-origin",
          headers: { Accept: "application/json", "X-CSRFToken": csrf },
        });
        if (!answer.ok) throw new Error(String(answer.status));
        const { results } = await answer.json();
        const answered = new Set(results.map((r) => String(r.pk)));
        results.forEach((result) => {
          if (result.ok) tally.done += 1;
          else {
            tally.failed += 1;
            failure(`${result.number}: ${result.message}`);
          }
          showRow(result);
        });
        // A row no longer verified by the time its batch arrived is not sent.
        const skipped = pks.slice(start, start + batch).filter((pk) => !answered.has(pk)).length;
        tally.failed += skipped;
        tally.remaining -= results.length + skipped;
        show();
      }
      counts.textContent += " — " + form.dataset.textFinished;
    } catch (_error) {
      counts.textContent += " — " + form.dataset.textStopped;
    } finally {
      button.disabled = false;
    }
  });
});
