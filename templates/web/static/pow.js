/* The subscribe form's proof of work (ALTCHA's protocol, v1 SHA-256): find the number n for which
   SHA-256(salt + n) is the challenge, then post it with the server's signature. Served from this
   site; no third party is involved. Without JavaScript or WebCrypto the form says so. */
(function () {
  "use strict";
  var box = document.querySelector("[data-pow-challenge]");
  if (!box) { return; }
  var form = box.closest("form");
  var field = form.querySelector("input[name=altcha]");
  var button = form.querySelector("button[type=submit]");
  var status = box.querySelector("[data-pow-status]");
  var challenge = JSON.parse(box.getAttribute("data-pow-challenge"));
  var encoder = new TextEncoder();

  function hex(buffer) {
    return Array.prototype.map.call(new Uint8Array(buffer), function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function say(text) { status.textContent = text; }

  if (!window.crypto || !window.crypto.subtle) {
    say("This form needs a secure (https) connection to check your browser.");
    return;
  }
  button.disabled = true;
  say("Checking your browser before you subscribe…");

  var CHUNK = 500;
  function attempt(start) {
    var tries = [];
    for (var n = start; n < start + CHUNK && n <= challenge.maxNumber; n++) {
      tries.push(window.crypto.subtle.digest("SHA-256", encoder.encode(challenge.salt + n)));
    }
    return Promise.all(tries).then(function (hashes) {
      for (var i = 0; i < hashes.length; i++) {
        if (hex(hashes[i]) === challenge.challenge) { return start + i; }
      }
      if (start + CHUNK > challenge.maxNumber) { return null; }
      return attempt(start + CHUNK);
    });
  }

  attempt(0).then(function (number) {
    if (number === null) {
      say("The check did not succeed; please reload the page.");
      return;
    }
    field.value = btoa(JSON.stringify({
      algorithm: challenge.algorithm,
      challenge: challenge.challenge,
      number: number,
      salt: challenge.salt,
      signature: challenge.signature
    }));
    button.disabled = false;
    say("Browser checked.");
  });
})();
