// The sentences this script writes, in the page's language: base.html renders them (translated) on <body>
// as data-said-* attributes; the English here is only for a page without them. No inline script (CSP).
function said(name, english) {
  "use strict";
  var body = document.body;
  var key = "said" + name.charAt(0).toUpperCase() + name.slice(1);
  return (body && body.dataset && body.dataset[key]) || english;
}

// Small behaviours every page shares. No inline scripts anywhere: the CSP forbids them.
(function () {
  "use strict";

  // "/" focuses the search box from any page, unless the person is typing somewhere already.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    var tag = target && target.tagName;
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable)) return;
    var box = document.getElementById("site-search-q");
    if (!box) return;
    event.preventDefault();
    box.focus();
    box.select();
  });

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    // Plain-http deployments: fall back to a hidden textarea.
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.className = "visually-hidden";
      document.body.appendChild(area);
      area.select();
      try { document.execCommand("copy") ? resolve() : reject(new Error("copy refused")); }
      catch (error) { reject(error); }
      finally { document.body.removeChild(area); }
    });
  }

  // <button data-copy="text"> or <button data-copy-from="#element-id"> copies on click.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy], [data-copy-from]");
    if (!button) return;
    event.preventDefault();
    var text = button.getAttribute("data-copy");
    if (text === null) {
      var source = document.querySelector(button.getAttribute("data-copy-from"));
      text = source ? (source.value !== undefined ? source.value : source.textContent) : "";
    }
    var label = button.textContent;
    copyText(text.trim()).then(function () {
      button.textContent = said("copied", "Copied");
      button.classList.add("copied");
      setTimeout(function () { button.textContent = label; button.classList.remove("copied"); }, 1500);
    }, function () {
      button.textContent = said("copyFailed", "Copy failed: select and copy by hand");
    });
  });

  // Forms marked data-confirm ask before submitting (a real confirmation page exists without JS).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });
})();

// --- Download records (downloads/record_create.html, downloads/record_edit.html) ---
(function () {
  "use strict";

  // The S3 key is required exactly when "Stored on Amazon S3" is ticked (the server checks it too).
  function syncAmazonKey(form) {
    var box = form.querySelector("input[name=is_amazon]");
    var key = form.querySelector("input[name=amazon_key]");
    if (!box || !key || key.disabled) return;
    key.required = box.checked;
  }
  function setUpRecordForms(root) {
    var forms = (root || document).querySelectorAll("form[data-record-form]");
    Array.prototype.forEach.call(forms, syncAmazonKey);
  }
  document.addEventListener("change", function (event) {
    var form = event.target.closest && event.target.closest("form[data-record-form]");
    if (form && event.target.name === "is_amazon") syncAmazonKey(form);
  });
  document.addEventListener("DOMContentLoaded", function () { setUpRecordForms(document); });

  // A create is sent once: after the first submit its buttons stay disabled until the page changes.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !form.hasAttribute || !form.hasAttribute("data-submit-once")) return;
    if (form.getAttribute("data-sent") === "1") { event.preventDefault(); return; }
    form.setAttribute("data-sent", "1");
    // Disabled after the browser has collected the form's values.
    setTimeout(function () {
      Array.prototype.forEach.call(form.querySelectorAll("button[type=submit]"), function (button) {
        button.disabled = true;
      });
    }, 0);
  });
  // Coming back with the browser's Back button: the page is live again.
  window.addEventListener("pageshow", function () {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-submit-once][data-sent]"), function (form) {
      form.removeAttribute("data-sent");
      Array.prototype.forEach.call(form.querySelectorAll("button[type=submit]"), function (button) {
        button.disabled = false;
      });
    });
  });
})();

// --- Orders (orders/order_detail.html: the "Resend download e-mail" form) ---
(function () {
  "use strict";

  // The form GETs the confirmation page when JavaScript is off. Here the person has just answered its
  // data-confirm question (the handler above runs first and cancels on "no"), so it posts instead.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !form.hasAttribute || !form.hasAttribute("data-post-when-confirmed")) return;
    var token = form.getAttribute("data-csrf");
    if (!token) return;
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    if (!input) {
      input = document.createElement("input");
      input.type = "hidden";
      input.name = "csrfmiddlewaretoken";
      form.appendChild(input);
    }
    input.value = token;
    form.method = "post";
  });
})();

// --- Screen readers: say what an htmx swap changed (base.html's #live-status stays while regions swap) ---
(function () {
  "use strict";

  var SUMMARY = "[data-announce], [role=alert], .row-message, .results-summary, .notice, .field-error";

  function summaryOf(region) {
    var found = region.matches && region.matches(SUMMARY) ? [region] : region.querySelectorAll(SUMMARY);
    for (var i = 0; i < found.length; i++) {
      var text = (found[i].textContent || "").replace(/\s+/g, " ").trim();
      if (text) return text;
    }
    return "";
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var target = event.detail && event.detail.target;
    if (target && target.setAttribute) target.setAttribute("aria-busy", "true");
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    var live = document.getElementById("live-status");
    var target = event.detail && event.detail.target;
    if (!live || !target) return;
    // An outerHTML swap replaced the target: read the element that now has its id.
    var region = (target.id && document.getElementById(target.id)) || target;
    region.removeAttribute("aria-busy");
    // A region that polls (a job's progress) would speak every few seconds: its <progress> says it instead.
    if (region.hasAttribute("data-quiet-poll")) return;
    var text = summaryOf(region) || said("updated", "Updated.");
    // Cleared first, so the same sentence twice is still announced twice.
    live.textContent = "";
    setTimeout(function () { live.textContent = text; }, 50);
  });
})();
