/* coursekit deck start-up: typeset the maths, start reveal.js, shrink overfull slides.
 * The configuration comes from the JSON block #ck-deck-config written by coursekit.slides. */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("ck-deck-config").textContent);
  var MIN_SCALE = config.minContentScale || 0.55;
  var FIGURE_MIN_SCALE = config.figureMinScale || 0.9;

  /* The widest a figure may be: the slide's content width, at most its own pixel width (a
   * "retina" figure has twice the pixels of its size in the notebook, so it can double). */
  function widest(img, width) {
    var logical = parseFloat(img.getAttribute("width")) || img.naturalWidth || width;
    return Math.min(width, Math.max(img.naturalWidth || 0, logical));
  }

  /* The narrowest a figure is made before the whole slide is scaled instead. */
  function narrowest(img, width) {
    var logical = parseFloat(img.getAttribute("width")) || img.naturalWidth || width;
    return Math.min(widest(img, width), logical * FIGURE_MIN_SCALE);
  }

  function setWidth(img, px) {
    img.style.width = px.toFixed(1) + "px";
    img.style.height = "auto";
  }

  /* Shrink the slide's figures, all by one factor, by about `excess` pixels of height; never
   * below narrowest(). Returns true when anything changed. */
  function shrinkFigures(images, width, excess) {
    var total = 0;
    images.forEach(function (img) { total += img.offsetHeight; });
    if (total <= 0 || excess <= 0) return false;
    var factor = Math.max(0, (total - excess) / total);
    var changed = false;
    images.forEach(function (img) {
      var now = img.offsetWidth;
      var next = Math.max(narrowest(img, width), now * factor);
      if (next < now - 0.5) { setWidth(img, next); changed = true; }
    });
    return changed;
  }

  function leafSlides() {
    return Array.prototype.slice.call(document.querySelectorAll(".reveal .slides section.ck-slide"));
  }

  /* Give every figure the slide's width; when the content does not fit above the footer,
   * shrink the figures first (to FIGURE_MIN_SCALE of their notebook size), then scale the whole
   * content down (never up), to MIN_SCALE at most; past that the slide scrolls. */
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
      var images = Array.prototype.slice.call(body.querySelectorAll("img.ck-img"));
      images.forEach(function (img) { setWidth(img, widest(img, width)); });
      for (var round = 0; round < 4; round++) {
        if (!shrinkFigures(images, width, body.scrollHeight - available)) break;
      }
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
