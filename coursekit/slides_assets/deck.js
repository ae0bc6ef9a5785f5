/* coursekit deck start-up: typeset the maths, start reveal.js, shrink overfull slides.
 * The configuration comes from the JSON block #ck-deck-config written by coursekit.slides. */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("ck-deck-config").textContent);
  var MIN_SCALE = config.minContentScale || 0.55;

  function leafSlides() {
    return Array.prototype.slice.call(document.querySelectorAll(".reveal .slides section.ck-slide"));
  }

  /* Scale a slide's content down (never up) until it fits above the footer. */
  function fitSlide(section) {
    var body = section.querySelector(".ck-body");
    if (!body) return;
    var parent = section.parentElement && section.parentElement.tagName === "SECTION"
      ? section.parentElement : null;
    var saved = [section.style.display, parent ? parent.style.display : null];
    section.style.display = "block";
    if (parent) parent.style.display = "block";
    try {
      body.style.transform = "";
      body.style.width = "";
      section.classList.remove("ck-overflow");
      var width = body.offsetWidth;
      var available = section.clientHeight - body.offsetTop - 6;  /* the box ends above the footer */
      var scale = 1;
      for (var pass = 0; pass < 4; pass++) {
        var needed = body.scrollHeight * scale;
        if (needed <= available + 1) break;
        scale = Math.max(MIN_SCALE, scale * available / needed);
        body.style.width = (width / scale) + "px";
        body.style.transform = "scale(" + scale.toFixed(4) + ")";
        if (scale <= MIN_SCALE) break;
      }
      if (body.scrollHeight * scale > available + 1) section.classList.add("ck-overflow");
      section.setAttribute("data-ck-scale", scale.toFixed(3));
    } finally {
      section.style.display = saved[0];
      if (parent) parent.style.display = saved[1];
    }
  }

  function fitAll() { leafSlides().forEach(fitSlide); }

  function start() {
    var plugins = [];
    if (window.RevealNotes) plugins.push(window.RevealNotes);
    Reveal.initialize({
      width: config.width,
      height: config.height,
      margin: 0.04,
      minScale: 0.2,
      maxScale: 3.0,
      center: false,
      hash: true,
      controls: true,
      progress: true,
      slideNumber: "c/t",
      showSlideNumber: "all",
      transition: "slide",
      transitionSpeed: "fast",
      backgroundTransition: "none",
      plugins: plugins
    }).then(function () {
      fitAll();
      Reveal.layout();
      document.documentElement.setAttribute("data-ck-ready", "1");
    });
  }

  function imagesDecoded() {
    var images = Array.prototype.slice.call(document.querySelectorAll(".reveal img"));
    return Promise.all(images.map(function (img) {
      return img.decode ? img.decode().catch(function () {}) : Promise.resolve();
    }));
  }

  function typeset() {
    var mj = window.MathJax;
    if (mj && mj.startup && mj.startup.promise) {
      return mj.startup.promise.catch(function (err) { console.error("MathJax:", err); });
    }
    if (config.cdn) console.warn("MathJax did not load (offline?): maths stays as TeX source.");
    return Promise.resolve();
  }

  if (typeof window.Reveal === "undefined") {
    document.body.insertAdjacentHTML("afterbegin",
      "<p style='font:20px sans-serif;padding:1em'>reveal.js did not load. " +
      (config.cdn ? "This deck was built with --cdn and needs network; rebuild it without --cdn."
                  : "Rebuild the deck with `coursekit slides`.") + "</p>");
    return;
  }
  Promise.all([typeset(), imagesDecoded()]).then(start, start);
})();
