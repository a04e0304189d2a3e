// The questionnaire, enhanced. Everything works without this file; with it:
// - answers are copied to sessionStorage (this tab only) as they are given, and put back when a
//   page is shown again empty (a dropped connection, an expired session);
// - the copy is wiped when answers are sent or cleared; nothing goes to cookies or localStorage;
// - text answers show a live character counter.
"use strict";

(() => {
  const store = window.sessionStorage;

  function formState(form) {
    const state = {};
    for (const element of form.elements) {
      if (!element.name || element.name === "csrf_token" || element.name === "action") continue;
      if ((element.type === "radio" || element.type === "checkbox") && !element.checked) continue;
      (state[element.name] = state[element.name] || []).push(element.value);
    }
    return state;
  }

  function isEmpty(form) {
    return Object.keys(formState(form)).length === 0;
  }

  function restore(form, state) {
    for (const element of form.elements) {
      const values = state[element.name];
      if (!values) continue;
      if (element.type === "radio" || element.type === "checkbox") {
        element.checked = values.includes(element.value);
      } else if (element.tagName === "TEXTAREA" || element.type === "text") {
        element.value = values[0];
      }
    }
  }

  function wipe(prefix) {
    for (const key of Object.keys(store)) {
      if (key.startsWith(prefix)) store.removeItem(key);
    }
  }

  function keepInTab(form) {
    const key = form.dataset.keepInTab;
    const saved = store.getItem(key);
    if (saved && isEmpty(form)) restore(form, JSON.parse(saved));
    const save = () => store.setItem(key, JSON.stringify(formState(form)));
    form.addEventListener("change", save);
    form.addEventListener("input", save);
  }

  function counter(paragraph) {
    const field = document.getElementById(paragraph.dataset.counterFor);
    const max = Number(field.getAttribute("maxlength"));
    const text = paragraph.dataset.counterText;
    paragraph.setAttribute("aria-live", "polite");
    const update = () => {
      paragraph.textContent = text.replace("{used}", field.value.length).replace("{max}", max);
    };
    field.addEventListener("input", update);
    update();
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("form[data-keep-in-tab]").forEach(keepInTab);
    document.querySelectorAll("[data-counter-for]").forEach(counter);
    document.querySelectorAll("form[data-clear-tab], form[data-clear-tab-on-submit]").forEach((form) => {
      form.addEventListener("submit", () => wipe(form.dataset.clearTab || form.dataset.clearTabOnSubmit));
    });
    if (document.querySelector("[data-clear-all-tab-answers]")) wipe("ks-");
  });
})();
