// Arriving by the link in your email (https://…/#CODE): the code sits in the URL's fragment,
// which the browser never sends to the server. Put it in the form, take it out of the address
// bar and the history, and post it. Without JavaScript the member types the code instead.
(function () {
  "use strict";
  function fromFragment() {
    var raw = window.location.hash ? window.location.hash.slice(1) : "";
    if (!raw) { return; }
    history.replaceState(null, "", window.location.pathname);
    var code = "";
    try { code = decodeURIComponent(raw); } catch (e) { return; }
    if (!/^[0-9A-Za-z \-]{21,40}$/.test(code)) { return; }
    var input = document.getElementById("token");
    var form = document.getElementById("token-form");
    if (!input || !form) { return; }
    input.value = code;
    form.submit();
  }
  window.addEventListener("hashchange", fromFragment);
  fromFragment();
})();
