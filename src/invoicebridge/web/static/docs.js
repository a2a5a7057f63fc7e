// Starts Swagger UI on /api/docs. Kept out of the page so the Content-Security-Policy can forbid inline script.
// Requests made from the page carry the session's CSRF token; with an API token (Authorize) none is needed.
(function () {
  "use strict";
  var element = document.getElementById("swagger-ui");
  var meta = document.querySelector('meta[name="csrf-token"]');
  window.ui = SwaggerUIBundle({
    url: element.getAttribute("data-openapi-url"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: false,
    requestInterceptor: function (request) {
      if (meta) { request.headers["X-CSRF-Token"] = meta.getAttribute("content"); }
      return request;
    },
  });
})();
