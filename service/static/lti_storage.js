// LTI client-side OIDC storage (1EdTech "LTI OIDC Login with LTI Client Side
// postMessages"), for an LMS frame that cannot keep mixgrade's login cookie.
// At /lti/login (data-step="put") the state and nonce are put in the platform's storage
// window, then the browser goes on to the platform. At /lti/launch (data-step="get") the
// state is read back; the form continues the launch only if the platform holds it.
// Messages are sent only to the platform's origin and answers taken only from it.
(function () {
  "use strict";
  var root = document.getElementById("lti-storage");
  if (!root) {
    return;
  }
  var data = root.dataset;
  var origin = data.platformOrigin;
  var TIMEOUT_MS = 3000;

  function storageWindow() {
    if (window.parent === window) {
      return null; // not framed: no platform page to ask
    }
    if (data.storageTarget === "_parent") {
      return window.parent;
    }
    try {
      return window.parent.frames[data.storageTarget] || null;
    } catch (error) {
      return null;
    }
  }

  function messageId() {
    if (window.crypto && window.crypto.randomUUID) {
      return window.crypto.randomUUID();
    }
    return String(Date.now()) + "-" + String(Math.random()).slice(2);
  }

  // One request to the storage window; resolves with its answer, rejects on an error,
  // no answer in time, or no window to ask.
  function ask(target, message) {
    return new Promise(function (resolve, reject) {
      if (!target || !origin) {
        reject(new Error("no platform storage"));
        return;
      }
      var id = messageId();
      var timer = window.setTimeout(function () {
        window.removeEventListener("message", listen);
        reject(new Error("no answer from the platform"));
      }, TIMEOUT_MS);
      function listen(event) {
        var answer = event.data;
        if (event.origin !== origin || event.source !== target) {
          return;
        }
        if (!answer || typeof answer !== "object" || answer.message_id !== id) {
          return;
        }
        if (answer.subject !== message.subject + ".response") {
          return;
        }
        window.clearTimeout(timer);
        window.removeEventListener("message", listen);
        if (answer.error) {
          reject(new Error(String(answer.error.code || answer.error)));
        } else {
          resolve(answer);
        }
      }
      window.addEventListener("message", listen);
      message.message_id = id;
      target.postMessage(message, origin);
    });
  }

  var target = storageWindow();
  if (data.step === "put") {
    var next = function () {
      window.location.assign(data.next);
    };
    // Whatever storage says, go on: the cookie may still come back at the launch.
    Promise.all([
      ask(target, { subject: "lti.put_data", key: "state_" + data.state, value: data.state }),
      ask(target, { subject: "lti.put_data", key: "nonce_" + data.nonce, value: data.nonce }),
    ]).then(next, next);
  } else if (data.step === "get") {
    var fail = function () {
      document.getElementById("lti-storage-waiting").hidden = true;
      document.getElementById("lti-storage-failed").hidden = false;
    };
    ask(target, { subject: "lti.get_data", key: "state_" + data.state }).then(function (answer) {
      if (answer.value === data.state) {
        document.getElementById("lti-continue").submit();
      } else {
        fail();
      }
    }, fail);
  }
})();
