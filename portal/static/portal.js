// The DPD's assessment form: the ENISA computation is shown again whenever a factor changes (the form works
// without this script: its "Calculer la gravité" button asks the server for the same panel).
(function () {
  "use strict";
  var form = document.getElementById("evaluation");
  if (!form) { return; }
  var url = form.getAttribute("data-apercu");
  var button = document.getElementById("calculer");
  if (button) { button.hidden = true; }
  var pending = null;
  function refresh() {
    if (pending) { pending.abort(); }
    pending = new AbortController();
    fetch(url, { method: "POST", body: new FormData(form), credentials: "same-origin", headers: { "X-Apercu": "1" }, signal: pending.signal })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var panel = document.getElementById("gravite");
        var parsed = new DOMParser().parseFromString(html, "text/html").getElementById("gravite");
        if (panel && parsed) { panel.replaceWith(parsed); }
      })
      .catch(function () { /* aborted by a newer change, or offline: the button's path still works */ });
  }
  form.addEventListener("change", refresh);
  refresh();
}());
