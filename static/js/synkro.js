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

// A setting with data-applies-when='{"<field>": ["<value>", …]}' is shown only while every named field of its
// form has one of the listed values (the server hides it the same way when it draws the page). Hidden settings
// keep their values and are still sent.
function currentValue(form, name) {
  var fields = form.querySelectorAll('[name="' + name + '"]');
  for (var i = 0; i < fields.length; i++) {
    var field = fields[i];
    if (field.type === "radio" || field.type === "checkbox") {
      if (field.checked) { return field.value; }
    } else {
      return field.value;
    }
  }
  return "";
}

function applySettingRules(form) {
  var settings = form.querySelectorAll("[data-applies-when]");
  for (var i = 0; i < settings.length; i++) {
    var setting = settings[i];
    var rule;
    try { rule = JSON.parse(setting.getAttribute("data-applies-when")); } catch (error) { continue; }
    var applies = Object.keys(rule).every(function (name) {
      return rule[name].indexOf(currentValue(form, name)) !== -1;
    });
    // A setting showing an error stays in sight until it is saved.
    setting.hidden = !applies && !setting.querySelector(".errorlist");
  }
}

document.addEventListener("change", function (event) {
  var form = event.target.form || (event.target.closest && event.target.closest("form"));
  if (form && form.querySelector("[data-applies-when]")) { applySettingRules(form); }
});
