/* django-celery-beat's periodic-task admin form: show a human translation of the chosen crontab under the
   field. Its template kept this inline; templates/admin/djcelery/change_periodictask_form.html loads it
   from here so the page runs under the Content-Security-Policy. */
(function () {
  "use strict";

  var $ = window.django && window.django.jQuery;
  if (!$) {
    return;
  }
  var script = document.getElementById("periodic-task-overrides");
  var source = document.getElementById("readable-crontabs");
  var readable = {};
  try {
    readable = source ? JSON.parse(source.textContent) : {};
  } catch (err) {
    readable = {};
  }
  var originalHelp = script ? script.getAttribute("data-crontab-help") || "" : "";

  function updateCrontabHelp(translation) {
    var help = $(".field-crontab .help");
    help.text(originalHelp);
    if (translation) {
      help.append(document.createElement("br"));
      help.append(document.createTextNode("Translation: " + translation));
    }
  }

  $(".field-crontab_translation").hide();
  $(".field-crontab").change(function () {
    updateCrontabHelp(readable[$("#id_crontab").val()]);
  });
})();
