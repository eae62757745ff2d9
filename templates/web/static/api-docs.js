/* Starts Swagger UI on /api/docs. A file, not an inline script, so the page's CSP can forbid
   inline script; the bundle itself is served from the installed fastapi-offline package. */
(function () {
  "use strict";
  window.ui = window.SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null, // never send the schema to an online validator
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    persistAuthorization: false,
  });
})();
