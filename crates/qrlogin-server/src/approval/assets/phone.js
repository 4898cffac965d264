// The approval page's only script: pick the check code, then Confirm or Cancel through the
// JSON phone endpoint (session cookie + CSRF header), then show "return to your computer".
'use strict';
(function () {
  var main = document.getElementById('qrl');
  if (!main || main.getAttribute('data-state') !== 'approve') return;
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.getAttribute('content') : '';
  var scanId = main.getAttribute('data-scan-id');
  var url = main.getAttribute('data-action-url');
  var confirmBtn = document.getElementById('confirm');
  var cancelBtn = document.getElementById('cancel');
  var errorBox = document.getElementById('error');
  var codes = document.querySelectorAll('button.code');
  var picked = null;

  Array.prototype.forEach.call(codes, function (button) {
    button.addEventListener('click', function () {
      picked = button.getAttribute('data-code');
      Array.prototype.forEach.call(codes, function (other) {
        other.setAttribute('aria-pressed', other === button ? 'true' : 'false');
      });
      confirmBtn.disabled = false;
    });
  });

  // The result replaces the form; its heading takes focus so a screen reader reads it at once
  // (the buttons that had focus are gone).
  function show(id) {
    main.hidden = true;
    var done = document.getElementById(id);
    if (!done) return;
    done.hidden = false;
    var heading = done.querySelector('h1');
    if (heading) {
      heading.setAttribute('tabindex', '-1');
      heading.focus();
    }
  }

  function fail(message, final) {
    errorBox.textContent = message;
    errorBox.hidden = false;
    cancelBtn.disabled = final;
    confirmBtn.disabled = final || (codes.length > 0 && picked === null);
  }

  function send(action) {
    confirmBtn.disabled = true;
    cancelBtn.disabled = true;
    var body = { scanId: scanId, action: action };
    if (action === 'CONFIRM' && picked !== null) body.checkCode = picked;
    fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: JSON.stringify(body)
    })
      .then(function (r) { return r.json(); })
      .then(function (reply) {
        if (reply && reply.statusCode === 200) {
          show(action === 'CONFIRM' ? 'done-confirmed' : 'done-cancelled');
        } else if (reply && reply.apiCode === 403 && action === 'CONFIRM' && codes.length > 0) {
          // A wrong check code cancels the sign-in on the server (fail closed).
          show('done-wrong-code');
        } else {
          fail((reply && reply.message) || main.getAttribute('data-error-text'), true);
        }
      })
      .catch(function () { fail(main.getAttribute('data-network-text'), false); });
  }

  confirmBtn.addEventListener('click', function () { send('CONFIRM'); });
  cancelBtn.addEventListener('click', function () { send('CANCEL'); });
})();
