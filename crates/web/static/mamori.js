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
