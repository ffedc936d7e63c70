// The spec editor: a line-number gutter beside a plain <textarea>, and links from each
// listed error or warning to its line. Without JavaScript the server draws the gutter for
// the text it sent and a link goes to the text area; this keeps the gutter in step while
// typing and puts the caret on the line a link names.
(function () {
  "use strict";
  var area = document.getElementById("spec_text");
  var gutter = document.getElementById("spec-gutter");
  if (!area || !gutter) return;

  // The marks the server drew (a line's error or warning), kept while the text changes.
  var marks = {};
  gutter.querySelectorAll("span[class]").forEach(function (span) {
    marks[span.textContent] = { severity: span.className, said: span.title };
  });

  function lineCount() {
    return area.value.split("\n").length;
  }

  // The area is as tall as its text (rows), so it never scrolls inside: the gutter's
  // numbers stay beside their lines as the page scrolls, as they do without JavaScript.
  function redraw() {
    var count = lineCount();
    if (gutter.childElementCount !== count) {
      var frag = document.createDocumentFragment();
      for (var i = 1; i <= count; i++) {
        var span = document.createElement("span");
        span.textContent = String(i);
        if (marks[i]) {
          span.className = marks[i].severity;
          span.title = marks[i].said;
        }
        frag.appendChild(span);
        frag.appendChild(document.createTextNode("\n"));
      }
      gutter.textContent = "";
      gutter.appendChild(frag);
    }
    area.rows = Math.max(count + 2, 24);
  }

  // Select line ``line`` (1-based), focus the area and bring the line into view.
  function goToLine(line) {
    var lines = area.value.split("\n");
    var target = Math.min(Math.max(line, 1), lines.length);
    var start = 0;
    for (var i = 0; i < target - 1; i++) start += lines[i].length + 1;
    area.focus({ preventScroll: true });
    area.setSelectionRange(start, start + lines[target - 1].length);
    var style = window.getComputedStyle(area);
    var height = parseFloat(style.lineHeight) || parseFloat(style.fontSize) * 1.2;
    var offset = parseFloat(style.paddingTop) + (target - 1) * height;
    area.scrollTop = Math.max(0, offset - area.clientHeight / 2);  // if resized to scroll
    var top = area.getBoundingClientRect().top + window.scrollY + offset - area.scrollTop;
    window.scrollTo({ top: Math.max(0, top - window.innerHeight / 3) });
  }

  document.querySelectorAll("a.to-line[data-line]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      goToLine(parseInt(link.getAttribute("data-line"), 10));
    });
  });

  // A preview's plot that cannot be drawn is hidden rather than shown broken (an inline
  // onerror attribute would break the CSP), as on the student's page.
  var plot = document.querySelector("#preview figure.plot img");
  if (plot) {
    var hidePlot = function () { plot.closest("figure").hidden = true; };
    if (plot.complete && plot.naturalWidth === 0) hidePlot();
    else plot.addEventListener("error", hidePlot);
  }

  area.addEventListener("input", redraw);
  redraw();
})();
