// Small progressive enhancement; every page works without it.
// Buttons marked .danger ask before they submit.
document.addEventListener("submit", function (event) {
  var button = event.submitter;
  if (button && button.classList.contains("danger")) {
    var message = document.documentElement.lang === "en" ? "Are you sure?" : "実行してよろしいですか？";
    if (!window.confirm(message)) {
      event.preventDefault();
    }
  }
});

// Checklist answers save as you go: a changed answer is posted in the
// background with the same form the button sends, so nothing typed is lost
// on a phone that leaves the page.
(function () {
  function save(form) {
    var status = form.querySelector(".save-status");
    var body = new URLSearchParams(new FormData(form));
    if (!body.get("value")) {
      return;
    }
    if (status) { status.textContent = "…"; status.className = "save-status"; }
    fetch(form.action, {
      method: "POST",
      body: body,
      headers: { "X-Requested-With": "fetch" },
      credentials: "same-origin"
    }).then(function (response) {
      return response.text().then(function (text) {
        if (status) {
          status.textContent = text;
          status.className = "save-status " + (response.ok ? "saved" : "refused");
        }
      });
    }).catch(function () {
      if (status) { status.textContent = "⚠"; status.className = "save-status refused"; }
    });
  }
  var timers = new WeakMap();
  function later(form, delay) {
    clearTimeout(timers.get(form));
    timers.set(form, setTimeout(function () { save(form); }, delay));
  }
  document.addEventListener("change", function (event) {
    var form = event.target.closest && event.target.closest("form[data-autosave]");
    if (form) { later(form, 150); }
  });
  document.addEventListener("input", function (event) {
    var form = event.target.closest && event.target.closest("form[data-autosave]");
    if (form && event.target.tagName === "TEXTAREA") { later(form, 1200); }
  });
})();

// Print buttons (the content security policy forbids inline script).
document.addEventListener("click", function (event) {
  var button = event.target.closest && event.target.closest("[data-print]");
  if (button) {
    event.preventDefault();
    window.print();
  }
});
