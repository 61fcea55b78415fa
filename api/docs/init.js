// Renders the document named by #swagger-ui's data-spec (relative to the
// page). Kept out of index.html so a strict Content-Security-Policy
// without 'unsafe-inline' still allows the page.
(function () {
  var el = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: new URL(el.dataset.spec, document.baseURI).href,
    domNode: el,
    deepLinking: true,
    // The default sends the document to validator.swagger.io and shows
    // its badge: a request to another origin at run time.
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout"
  });
})();
