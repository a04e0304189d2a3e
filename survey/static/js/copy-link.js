// A "Copy the link" button beside a read-only link field (the forms.copy_link macro: the
// set-password link, a team's results link).
// Enhancement only: without JavaScript the field can be selected and copied by hand.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const source = document.querySelector("[data-copy-source]");
  const actions = document.querySelector("[data-copy-actions]");
  const button = document.querySelector("[data-copy-button]");
  const status = document.querySelector("[data-copy-status]");
  if (!source || !actions || !button || !status) {
    return;
  }
  actions.hidden = false;
  source.addEventListener("focus", () => source.select());
  button.addEventListener("click", async () => {
    source.select();
    try {
      await navigator.clipboard.writeText(source.value);
    } catch (error) {
      // Without the Clipboard API (an insecure http:// address): the older way.
      document.execCommand("copy");
    }
    status.textContent = button.dataset.copiedText;
  });
});
