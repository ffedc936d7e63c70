// The last step of LTI Dynamic Registration: tell the LMS that registration is over, so
// it closes the frame (or window) it opened our registration page in and shows its own
// page. The platform listens for this one message; "*" because the message carries no
// secret and the LMS's page origin is not ours to know here. A static file, not an
// inline script: the CSP allows only scripts from our own origin.
(function () {
  "use strict";
  var message = { subject: "org.imsglobal.lti.close" };
  if (window.opener) {
    window.opener.postMessage(message, "*");
  }
  if (window.parent !== window) {
    window.parent.postMessage(message, "*");
  }
})();
