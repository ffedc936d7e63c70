// Submit answers without leaving the page, then poll the submission until it is graded.
// Plain fetch, no framework; without JavaScript the form posts and the page reloads.
(function () {
  "use strict";
  // A plot that cannot be drawn is hidden rather than shown broken (this replaces an
  // inline onerror attribute, which the CSP forbids). It may have failed before we ran.
  var plot = document.querySelector("figure.plot img");
  if (plot) {
    var hidePlot = function () { plot.closest("figure").hidden = true; };
    if (plot.complete && plot.naturalWidth === 0) hidePlot();
    else plot.addEventListener("error", hidePlot);
  }

  var form = document.getElementById("answers");
  if (!form) return;
  var statusLine = document.getElementById("grading-status");
  var button = document.getElementById("submit");

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function fmt(x) {
    return x === null || x === undefined ? "—" : String(Math.round(x * 100) / 100);
  }

  // "1 point", "2.5 points": the page's own rule (problem_bank.render.plural).
  function points(x) {
    var shown = fmt(x);
    return shown + (shown === "1" ? " point" : " points");
  }

  function clearErrors() {
    form.querySelectorAll(".error").forEach(function (p) { p.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach(function (i) { i.removeAttribute("aria-invalid"); });
  }

  // Mark what the server named (answer_checks.invalid_inputs): the listed cells of a
  // table, else the part's input or its whole group of options, as the page would.
  function markInvalid(id, cells) {
    var inputs = Array.prototype.slice.call(form.querySelectorAll('[name="part-' + id + '"]'));
    var group = document.getElementById("part-" + id);
    if (group && group.getAttribute("role")) group.setAttribute("aria-invalid", "true");
    var marked = cells && cells.length ? cells.map(function (i) { return inputs[i]; }) : inputs;
    marked = marked.filter(Boolean);
    marked.forEach(function (input) { input.setAttribute("aria-invalid", "true"); });
    return marked[0] || null;
  }

  function showErrors(errors, detail, invalid) {
    var first = null;
    Object.keys(errors || {}).forEach(function (id) {
      var slot = document.getElementById("part-" + id + "-error");
      if (slot) slot.textContent = errors[id];
      var input = markInvalid(id, (invalid || {})[id]);
      first = first || input;
    });
    statusLine.textContent = detail + " No attempt was used.";
    if (first) first.focus();
  }

  // The one live region (#grading-status) says what came back; the parts' feedback is
  // read where it stands, through each input's aria-describedby.
  function summary(body) {
    var parts = body.parts || [];
    var right = parts.filter(function (p) { return p.verdict === "correct"; }).length;
    return "Graded: attempt " + body.attempt + ", " + fmt(body.points) + " / " +
      points(body.points_possible) + (body.is_late ? " (late)" : "") + "; " + right + " of " +
      parts.length + (parts.length === 1 ? " part" : " parts") + " correct.";
  }

  function showResult(body) {
    (body.parts || []).forEach(function (p) {
      var box = document.getElementById("part-" + p.id + "-feedback");
      if (!box) return;
      box.textContent = "";
      var head = el("p");
      head.appendChild(el("span", "verdict " + p.verdict, p.verdict));
      head.appendChild(document.createTextNode(" "));
      head.appendChild(el("span", "points", fmt(p.points) + " / " + points(p.points_possible)));
      box.appendChild(head);
      box.appendChild(el("p", "message" + (p.misconception ? " misconception" : ""), p.message));
      if (p.explanation_html) {
        // Rendered by the server's one Markdown renderer (service/prose.py): raw HTML escaped.
        var why = el("div", "explanation");
        why.innerHTML = p.explanation_html;
        box.appendChild(why);
      }
      if (p.hint) box.appendChild(el("p", "hint", "Hint: " + p.hint));
    });
    var total = document.getElementById("total");
    total.textContent = "Attempt " + body.attempt + ": ";
    total.appendChild(el("strong", "", fmt(body.points) + " / " + points(body.points_possible)));
    if (body.is_late) total.appendChild(el("span", "badge late", "late"));
    if (body.policy_text) total.appendChild(document.createTextNode(" · " + body.policy_text));
    var left = document.getElementById("attempts-left");
    if (left && body.attempts_left !== null) left.textContent = body.attempts_left;
    if (body.solution_available && !document.getElementById("solution")) {
      document.getElementById("solution-ready").hidden = false;
    }
    var history = document.getElementById("history");
    if (history) {
      var empty = history.querySelector("li.muted");
      if (empty) empty.remove();
      var item = el("li", "", "Attempt " + body.attempt + " · " + fmt(body.points) + " / " +
        points(body.points_possible) + (body.is_late ? " · late" : ""));
      history.insertBefore(item, history.firstChild);
    }
    statusLine.textContent = summary(body);
  }

  function poll(url, delay) {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (body) {
        if (body.status === "graded") { showResult(body); button.disabled = body.attempts_left === 0; return; }
        if (body.status === "failed") {
          statusLine.textContent = "Grading failed; your instructor has been told. This attempt is saved.";
          button.disabled = false;
          return;
        }
        setTimeout(function () { poll(url, Math.min(delay * 1.5, 2000)); }, delay);
      })
      .catch(function () { setTimeout(function () { poll(url, 2000); }, 2000); });
  }

  // One Idempotency-Key per set of answers: if a reply is lost (network, 503), sending the
  // same answers again returns the first submission instead of using a second attempt.
  var pending = { key: null, answers: null };

  function keyFor(answers) {
    if (pending.key === null || pending.answers !== answers) {
      var bytes = new Uint8Array(16);
      window.crypto.getRandomValues(bytes);
      pending.key = Array.prototype.map.call(bytes, function (b) {
        return ("0" + b.toString(16)).slice(-2);
      }).join("");
      pending.answers = answers;
    }
    return pending.key;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    clearErrors();
    button.disabled = true;
    statusLine.textContent = "Sending…";
    var data = new FormData(form);
    var key = keyFor(new URLSearchParams(data).toString());
    fetch(form.action, {
      method: "POST",
      body: data,
      headers: { Accept: "application/json", "Idempotency-Key": key },
      credentials: "same-origin",
    })
      .then(function (r) { return r.json().then(function (body) { return { code: r.status, body: body }; }); })
      .then(function (res) {
        if (res.code !== 503) pending.key = null;  // answered for good: the next send is new
        if (res.code === 202) {
          statusLine.textContent = "grading…";
          poll(res.body.status_url, 250);
        } else if (res.code === 422) {
          showErrors(res.body.errors, res.body.detail, res.body.invalid);
          button.disabled = false;
        } else {
          statusLine.textContent = res.body.detail || "The submission was refused.";
          button.disabled = res.code === 403 ||
            res.body.type === "urn:mixgrade:problem:attempts-exhausted";
        }
      })
      .catch(function () {
        statusLine.textContent = "Could not reach the server. Your answers are still here; try again.";
        button.disabled = false;
      });
  });

  if (form.dataset.pendingUrl) poll(form.dataset.pendingUrl, 250);
})();
