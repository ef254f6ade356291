// Times are sent in UTC, which every reader can convert; this shows them in the reader's
// own time zone instead, keeping the UTC one as the element's title. Without JavaScript
// the UTC text stays, and it is still right.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const local = new Intl.DateTimeFormat(undefined, {
    day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit",
    timeZoneName: "short",
  });
  for (const time of document.querySelectorAll("time[datetime]")) {
    const moment = new Date(time.getAttribute("datetime"));
    if (Number.isNaN(moment.getTime())) continue;
    time.title = time.textContent;
    time.textContent = local.format(moment);
  }
});
