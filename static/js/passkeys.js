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

  // announce shows msg in the error element and moves focus there (it takes
  // focus from script only: tabindex -1), so that a screen reader reads it
  // out where the person now is, not only by role=alert.
  function announce(el, msg) {
    show(el, msg);
    if (el && msg) {
      el.setAttribute("tabindex", "-1");
      el.focus();
    }
  }

  var cancelled = "The passkey request was cancelled or timed out. Please try again.";

  // browserRefusal is what to say when navigator.credentials refused, by
  // the DOMException's name: InvalidStateError on create means this
  // authenticator holds one of the account's passkeys already (the
  // options excluded them); NotAllowedError is the person cancelling, or
  // the time running out (the browser does not say which).
  function browserRefusal(err, adding) {
    var name = err && err.name;
    if (adding && name === "InvalidStateError") {
      return "This passkey is already added to your account. To add another, use a different device or security key.";
    }
    if (name === "NotAllowedError" || name === "AbortError") {
      return cancelled;
    }
    return adding ?
      "This browser or device couldn't make a passkey here. Please try again, or use another device." :
      "This browser or device couldn't use a passkey here. Please try again, or ask for a sign-in link by email below.";
  }

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
      announce(error, answer.error || cancelled);
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
        }, function (err) {
          return { error: browserRefusal(err, true) };
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
        announce(error, msg);
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
        }, function (err) {
          return { error: browserRefusal(err, false) };
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
