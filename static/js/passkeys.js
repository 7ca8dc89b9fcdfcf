// Passkeys for the staff console (WebAuthn): adding one on "Your passkeys"
// and signing in with one on the sign-in page. Both pages work without
// this file: the emailed link signs in, and the add form stays hidden,
// with a line saying passkeys need script. The server's half is
// web/console_passkeys.go; begin and finish are urlencoded POSTs.
(function () {
  "use strict";

  function supported() {
    return !!(window.PublicKeyCredential && navigator.credentials && window.fetch && window.URLSearchParams);
  }

  // base64url text <-> ArrayBuffer: the options and answers carry bytes.
  function toBytes(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) {
      s += "=";
    }
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) {
      out[i] = bin.charCodeAt(i);
    }
    return out.buffer;
  }
  function toText(buf) {
    var bytes = new Uint8Array(buf), bin = "";
    for (var i = 0; i < bytes.length; i++) {
      bin += String.fromCharCode(bytes[i]);
    }
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function post(url, fields) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json" },
      body: new URLSearchParams(fields).toString()
    }).then(function (r) {
      if (r.redirected) {
        // requireStaff sent the request to the sign-in page.
        return { error: "Your session has ended. Sign in again, then add the passkey." };
      }
      return r.json().catch(function () {
        return { error: "Something went wrong on our side. Please try again in a minute." };
      });
    });
  }

  function show(el, msg) {
    if (!el) {
      return;
    }
    el.textContent = msg;
    el.hidden = !msg;
  }

  var cancelled = "The passkey request was cancelled or timed out. Please try again.";

  // Adding a passkey: begin (options), navigator.credentials.create, finish.
  function setUpAdd(form) {
    var error = document.getElementById("passkey-error");
    var nameError = document.getElementById("passkey-name-error");
    var nameInput = document.getElementById("passkey-name");
    var field = document.getElementById("passkey-name-field");
    var button = form.querySelector("button[type=submit]");
    document.getElementById("passkey-needs-script").hidden = true;
    form.hidden = false;
    function fail(answer) {
      button.disabled = false;
      if (answer.field === "name") {
        show(error, "");
        show(nameError, answer.error);
        field.classList.add("has-error");
        nameInput.setAttribute("aria-invalid", "true");
        nameInput.setAttribute("aria-describedby", "passkey-name-hint passkey-name-error");
        nameInput.focus();
        return;
      }
      show(error, answer.error || cancelled);
    }
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      show(error, "");
      show(nameError, "");
      field.classList.remove("has-error");
      nameInput.removeAttribute("aria-invalid");
      nameInput.setAttribute("aria-describedby", "passkey-name-hint");
      button.disabled = true;
      var name = nameInput.value;
      post(form.getAttribute("data-begin"), { name: name }).then(function (begun) {
        if (!begun.options) {
          return fail(begun);
        }
        var o = begun.options;
        o.challenge = toBytes(o.challenge);
        o.user.id = toBytes(o.user.id);
        (o.excludeCredentials || []).forEach(function (c) {
          c.id = toBytes(c.id);
        });
        return navigator.credentials.create({ publicKey: o }).then(function (cred) {
          var r = cred.response;
          var answer = {
            id: cred.id,
            rawId: toText(cred.rawId),
            type: cred.type,
            authenticatorAttachment: cred.authenticatorAttachment || undefined,
            clientExtensionResults: cred.getClientExtensionResults(),
            response: {
              clientDataJSON: toText(r.clientDataJSON),
              attestationObject: toText(r.attestationObject),
              transports: r.getTransports ? r.getTransports() : []
            }
          };
          return post(form.getAttribute("data-finish"), { ceremony: begun.ceremony, name: name, credential: JSON.stringify(answer) });
        }, function () {
          return { error: cancelled };
        }).then(function (done) {
          if (done.redirect) {
            window.location.assign(done.redirect);
            return;
          }
          fail(done);
        });
      }).catch(function () {
        fail({ error: "The portal couldn't be reached. Check your connection and try again." });
      });
    });
  }

  // Signing in: begin (a challenge, no account named), get, finish.
  function setUpSignIn(box) {
    var error = document.getElementById("passkey-error");
    var button = document.getElementById("passkey-sign-in-button");
    box.hidden = false;
    button.addEventListener("click", function () {
      show(error, "");
      button.disabled = true;
      function fail(msg) {
        button.disabled = false;
        show(error, msg);
      }
      post(box.getAttribute("data-begin"), {}).then(function (begun) {
        if (!begun.options) {
          return fail(begun.error);
        }
        var o = begun.options;
        o.challenge = toBytes(o.challenge);
        (o.allowCredentials || []).forEach(function (c) {
          c.id = toBytes(c.id);
        });
        return navigator.credentials.get({ publicKey: o }).then(function (cred) {
          var r = cred.response;
          var answer = {
            id: cred.id,
            rawId: toText(cred.rawId),
            type: cred.type,
            authenticatorAttachment: cred.authenticatorAttachment || undefined,
            clientExtensionResults: cred.getClientExtensionResults(),
            response: {
              clientDataJSON: toText(r.clientDataJSON),
              authenticatorData: toText(r.authenticatorData),
              signature: toText(r.signature),
              userHandle: r.userHandle ? toText(r.userHandle) : undefined
            }
          };
          return post(box.getAttribute("data-finish"), { ceremony: begun.ceremony, credential: JSON.stringify(answer) });
        }, function () {
          return { error: cancelled };
        }).then(function (done) {
          if (done.redirect) {
            window.location.assign(done.redirect);
            return;
          }
          fail(done.error || cancelled);
        });
      }).catch(function () {
        fail("The portal couldn't be reached. Check your connection and try again.");
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!supported()) {
      return;
    }
    var form = document.getElementById("passkey-add");
    if (form) {
      setUpAdd(form);
    }
    var box = document.getElementById("passkey-sign-in");
    if (box) {
      setUpSignIn(box);
    }
  });
})();
