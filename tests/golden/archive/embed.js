/* feedpub embed.js: shows the newest items of a feedpub JSON Feed in a page.
 *
 *   <div data-feedpub-feed="https://example.org/feeds/topics/jugend/feed.json"
 *        data-feedpub-limit="5"><a href="...">Meldungen</a></div>
 *   <script src="https://example.org/feeds/embed.js" defer></script>
 *
 * Every element with data-feedpub-feed gets a list of links (ul.feedpub-list,
 * li.feedpub-item, a.feedpub-link, time.feedpub-date), or p.feedpub-empty
 * ("Noch keine Meldungen.", as on the embed pages) for a feed without items;
 * until the feed has loaded, and if it cannot be loaded or is no JSON Feed,
 * the element keeps what it had. All feed text is inserted as text
 * (createElement, textContent), never as HTML, and only http(s) links are
 * kept. No dependencies, no cookies sent.
 */
(function () {
  "use strict";

  var DEFAULT_LIMIT = 5;
  // The embed pages' words (feedpub/render/pages.py); English for other languages.
  var EMPTY = { de: "Noch keine Meldungen.", en: "No news yet." };

  function safeUrl(value, base) {
    if (typeof value !== "string") {
      return null;
    }
    try {
      var url = new URL(value, base);
      return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function text(value) {
    return typeof value === "string" ? value : "";
  }

  // The publisher's calendar date: the date part of the RFC 3339 string, so a
  // reader in another time zone sees the same day as the feed's pages.
  function dateLabel(value, language) {
    var match = /^(\d{4})-(\d\d)-(\d\d)/.exec(text(value));
    if (!match) {
      return null;
    }
    var day = new Date(Date.UTC(+match[1], +match[2] - 1, +match[3], 12));
    try {
      return {
        iso: match[0],
        label: new Intl.DateTimeFormat(language || undefined, {
          year: "numeric", month: "2-digit", day: "2-digit", timeZone: "UTC"
        }).format(day)
      };
    } catch (e) {
      return { iso: match[0], label: match[0] };
    }
  }

  function isJsonFeed(feed) {
    return Boolean(feed) && typeof feed === "object" && !Array.isArray(feed) &&
      /^https:\/\/jsonfeed\.org\/version\//.test(text(feed.version)) &&
      Array.isArray(feed.items);
  }

  function emptyLabel(language) {
    var words = EMPTY[language.split("-")[0].toLowerCase()] || EMPTY.en;
    var empty = document.createElement("p");
    empty.className = "feedpub-empty";
    empty.textContent = words;
    return empty;
  }

  function render(target, feed, feedUrl, limit) {
    var items = feed.items.filter(function (item) {
      return item && typeof item === "object";
    }).slice(0, limit);
    var language = text(feed.language) || document.documentElement.lang;
    var list = document.createElement("ul");
    list.className = "feedpub-list";
    items.forEach(function (item) {
      var entry = document.createElement("li");
      entry.className = "feedpub-item";
      var title = text(item.title) || text(item.summary) || text(item.content_text);
      var href = safeUrl(item.url, feedUrl);
      var label = document.createElement(href ? "a" : "span");
      label.className = "feedpub-link";
      label.textContent = title;
      if (href) {
        label.href = href;
        label.target = "_blank";
        label.rel = "noopener";
      }
      entry.appendChild(label);
      var date = dateLabel(item.date_published, language);
      if (date) {
        var time = document.createElement("time");
        time.className = "feedpub-date";
        time.dateTime = date.iso;
        time.textContent = date.label;
        entry.appendChild(document.createTextNode(" "));
        entry.appendChild(time);
      }
      list.appendChild(entry);
    });
    while (target.firstChild) {
      target.removeChild(target.firstChild);
    }
    target.appendChild(items.length ? list : emptyLabel(language));
    target.setAttribute("data-feedpub-state", "ready");
  }

  function load(target) {
    if (target.hasAttribute("data-feedpub-state")) {
      return; // already done: the script was included twice
    }
    var feedUrl = safeUrl(target.getAttribute("data-feedpub-feed"), document.baseURI);
    var limit = parseInt(target.getAttribute("data-feedpub-limit"), 10);
    if (!(limit > 0)) {
      limit = DEFAULT_LIMIT;
    }
    if (!feedUrl) {
      target.setAttribute("data-feedpub-state", "error");
      return;
    }
    target.setAttribute("data-feedpub-state", "loading");
    fetch(feedUrl, { credentials: "omit" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (feed) {
        if (!isJsonFeed(feed)) {
          throw new Error("not a JSON Feed");
        }
        render(target, feed, feedUrl, limit);
      })
      .catch(function () {
        target.setAttribute("data-feedpub-state", "error");
      });
  }

  function start() {
    var targets = document.querySelectorAll("[data-feedpub-feed]");
    for (var i = 0; i < targets.length; i += 1) {
      load(targets[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
