// Synkro's own behaviour, loaded as a file: the Content-Security-Policy allows no inline scripts.
// A button with data-copy-from="<id>" copies the value of the element with that id to the clipboard.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-copy-from]");
  if (!button) { return; }
  var source = document.getElementById(button.getAttribute("data-copy-from"));
  if (!source || !navigator.clipboard) { return; }
  navigator.clipboard.writeText(source.value).then(function () { button.textContent = "Copied"; });
});

// A form with data-confirm="<question>" is sent only when the person answers yes.
document.addEventListener("submit", function (event) {
  var question = event.target.getAttribute && event.target.getAttribute("data-confirm");
  if (question && !window.confirm(question)) { event.preventDefault(); }
});
