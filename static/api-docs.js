// The API reference page (/api/docs): Swagger UI over /api/v1/openapi.json.
// Kept out of the page so that a strict Content-Security-Policy (script-src 'self') holds.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  if (!root || typeof SwaggerUIBundle === "undefined") {
    return;
  }
  SwaggerUIBundle({
    url: root.getAttribute("data-document-url"),
    domNode: root,
    deepLinking: true,
    // BaseLayout without the standalone preset: its top bar logo carries an inline <style>.
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    persistAuthorization: false,
    tryItOutEnabled: false
  });
})();
