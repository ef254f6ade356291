// The cookie lab: show what page scripts can read. HttpOnly cookies never appear here.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const out = document.getElementById("script-cookies");
  if (!out) return;
  const cookies = document.cookie ? document.cookie.split("; ") : [];
  out.textContent = cookies.length
    ? "document.cookie:\n" + cookies.join("\n")
    : "document.cookie is empty: every cookie this page has is HttpOnly (or there are none).";
});
